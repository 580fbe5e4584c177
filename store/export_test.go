package store

import "time"

// SetClock makes c read time from now, for tests that move past a token's life.
func (c *TokenCache) SetClock(now func() time.Time) { c.now = now }
