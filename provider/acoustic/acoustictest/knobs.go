package acoustictest

// RevokeRefreshToken does what deleting a user's access in Acoustic's UI does:
// the refresh token gets invalid_grant from now on and every access token minted
// from it is revoked. It reports whether the refresh token is registered.
func (s *Server) RevokeRefreshToken(refreshToken string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[refreshToken]
	if !ok {
		return false
	}
	g.revoked = true
	for _, tok := range g.minted {
		s.core.Tokens.Revoke(tok)
	}
	return true
}
