package mcv1

// Hosts returns every host rule the credential may be sent to: the vendor's and
// Config.Transport.Hosts.
func (p *Provider) Hosts() []string { return append(p.cfg.hosts(), p.cfg.Transport.Hosts...) }
