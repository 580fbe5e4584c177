package acoustic

import "strings"

// pods maps each pod's name, as Acoustic numbers them, to the region in its API
// host, api-campaign-{region}.goacoustic.com.
var pods = map[string]string{
	"1":     "us-1",
	"2":     "us-2",
	"3":     "us-3",
	"4":     "us-4",
	"5":     "us-5",
	"6":     "eu-1",
	"7":     "ap-2",
	"8":     "ca-1",
	"9":     "us-6",
	"A":     "ap-1",
	"B":     "ap-3",
	"PILOT": "pilot",
}

// podNames lists the pods in the order Acoustic documents them, for error messages.
var podNames = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "PILOT"}

// podHost returns the API host of an Acoustic Campaign pod: "1" to "9", "A", "B" or
// "PILOT", in any case. podHost("6") is "api-campaign-eu-1.goacoustic.com". ok is
// false for a pod it does not know; give such an org's base URL as Config.BaseURL.
func podHost(pod string) (host string, ok bool) {
	region, ok := pods[strings.ToUpper(strings.TrimSpace(pod))]
	if !ok {
		return "", false
	}
	return "api-campaign-" + region + ".goacoustic.com", true
}
