package emulator

import "time"

// Clock reports the current time. Every lifetime decision an emulator makes goes
// through one, so tests can move time instead of waiting for it. A nil Clock is
// time.Now.
type Clock func() time.Time

// Now returns the clock's current time.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	return c()
}
