destination "tiktok_team" {
url = "https://tiktok-team.example.com/hooks"
    timeout="5s"
  headers = { "X-Team"="tiktok" , "X-Env" = "prod"}
  sign "standard_webhooks" {   secret = env("TIKTOK_SECRET") }
}
route "tiktok_creators" {
  source = "ylytic"
  filter       = "connector == 'tiktok'"
  destinations = ["tiktok_team"]
}
