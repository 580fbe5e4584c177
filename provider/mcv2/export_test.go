package mcv2

// Hosts returns every host rule the credential may be sent to: the tenant's, the
// AuthURL's and Config.Transport.Hosts.
func (p *Provider) Hosts() []string {
	return append(p.tenant.Load().hosts(), p.cfg.Transport.Hosts...)
}
