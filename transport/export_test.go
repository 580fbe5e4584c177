package transport

// What the package's external tests need of its unexported defaults, helpers and
// Store format: tests plant and read the breaker state a Source keeps in a Store
// (its tokens, through internal/storetest).
var ExponentialBackoff = exponentialBackoff

const (
	DefaultReplayLimit = defaultReplayLimit
	BreakerKeySuffix   = breakerKeySuffix
)

type BreakerRecord = breakerRecord

func EncodeBreaker(r BreakerRecord) []byte             { return r.encode() }
func DecodeBreaker(data []byte) (BreakerRecord, error) { return decodeBreaker(data) }
