schema "creator_insights" {
  field "type" {
    type = "string"
    enum = ["creator_insights"]
  }
  field "connector" {
    type = "string"
    enum = ["instagram", "youtube", "tiktok", "facebook"]
  }
}

source "ylytic" {
  path       = "/in/ylytic"
  event_type = "type"
  schemas    = { creator_insights = "creator_insights" }
  verify "hmac" {
    secret    = "dev"
    algorithm = "md5"
  }
}

destination "tiktok_team" {
  url     = "https://tiktok-team.example.com/hooks"
  timeout = "5 seconds"
}

route "tiktok_creators" {
  source       = "ylytic"
  filter       = "conector == 'tiktok'"
  destinations = ["tiktok_tem"]
}
