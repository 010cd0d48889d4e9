package gateway

// destinationNames are the running config's destinations, for the
// blocked-keys gauge.
func (g *Gateway) destinationNames() []string {
	cfg := g.current.Load()
	if cfg == nil {
		return nil
	}
	names := make([]string, len(cfg.Destinations))
	for i, d := range cfg.Destinations {
		names[i] = d.Name
	}
	return names
}
