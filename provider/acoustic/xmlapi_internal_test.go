package acoustic

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tokentrip/tokentrip/internal/xmlread"
)

const acoustic145 = `<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault><Request/><FaultCode/>` +
	`<FaultString><![CDATA[Session has expired or is invalid]]></FaultString><detail><error><errorid>145</errorid>` +
	`<module/><class>SP.Admin</class><method/></error></detail></Fault></Body></Envelope>`

func TestParseXMLAPIResult(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     xmlAPIResult
		auth     bool // want.isAuth()
	}{
		{"session expired", acoustic145, xmlAPIResult{faultString: "Session has expired or is invalid", errorID: 145, class: "SP.Admin"}, true},
		{
			"another error",
			"<Envelope>\n <Body>\n  <RESULT>\n   <SUCCESS>FALSE</SUCCESS>\n  </RESULT>\n  <Fault>\n   <FaultString>List ID is not valid.</FaultString>\n" +
				"   <detail><error><errorid>122</errorid><class>SP.ListManager</class></error></detail>\n  </Fault>\n </Body>\n</Envelope>",
			xmlAPIResult{faultString: "List ID is not valid.", errorID: 122, class: "SP.ListManager"}, false,
		},
		{"success", `<Envelope><Body><RESULT><SUCCESS>true</SUCCESS><LIST_ID>42</LIST_ID></RESULT></Body></Envelope>`, xmlAPIResult{success: true}, false},
		{"SUCCESS in capitals", `<Envelope><Body><RESULT><SUCCESS>TRUE</SUCCESS></RESULT></Body></Envelope>`, xmlAPIResult{success: true}, false},
		{"SUCCESS spelled out", `<Envelope><Body><RESULT><SUCCESS> Success </SUCCESS></RESULT></Body></Envelope>`, xmlAPIResult{success: true}, false},
		{"lower-case names", `<envelope><body><result><success>false</success></result><fault><faultstring>x</faultstring><detail><error><errorid>145</errorid></error></detail></fault></body></envelope>`,
			xmlAPIResult{faultString: "x", errorID: 145}, true},
		{"an element before the Body", `<Envelope><Header/><Body><RESULT><SUCCESS>false</SUCCESS></RESULT></Body></Envelope>`, xmlAPIResult{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseXMLAPIResult(strings.NewReader(tt.in), 0)
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.want || got.isAuth() != tt.auth {
				t.Errorf("got %+v (isAuth %t), want %+v (isAuth %t)", *got, got.isAuth(), tt.want, tt.auth)
			}
		})
	}

	t.Run("success stops reading", func(t *testing.T) {
		doc := `<Envelope><Body><RESULT><SUCCESS>true</SUCCESS>`
		src := io.MultiReader(strings.NewReader(doc), iotest.ErrReader(errors.New("read past SUCCESS")))
		if got, err := parseXMLAPIResult(src, 0); err != nil || !got.success {
			t.Errorf("got %+v, %v", got, err)
		}
	})
	kind := func(k xmlread.Kind) func(error) bool {
		return func(err error) bool {
			var e *xmlread.Error
			return errors.As(err, &e) && e.Kind == k
		}
	}
	for _, tt := range []struct {
		name, in, want string // want names the kind of error
		limit          int64
		is             func(error) bool // tells that kind
	}{
		{"empty", ``, "malformed", 0, kind(xmlread.Malformed)},
		{"not XML", `Bad Gateway`, "malformed", 0, kind(xmlread.Malformed)},
		{"not an Envelope", `<html/>`, "not an XML API answer", 0, func(err error) bool { return errors.Is(err, errNotXMLAPI) }},
		{"past the limit", acoustic145, "too large", 100, kind(xmlread.TooLarge)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseXMLAPIResult(strings.NewReader(tt.in), tt.limit)
			if !tt.is(err) || got != nil {
				t.Errorf("got %+v, %v; want nil, %s", got, err, tt.want)
			}
			if got.isAuth() {
				t.Error("isAuth is true without a result")
			}
		})
	}
}
