package acoustic_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/provider/acoustic"
)

// xmlAPIFault is an XML API error answer as Acoustic writes it.
func xmlAPIFault(success string, errorID int) string {
	return `<Envelope><Body><RESULT><SUCCESS>` + success + `</SUCCESS></RESULT><Fault><Request/>` +
		`<FaultCode/><FaultString><![CDATA[Session has expired or is invalid]]></FaultString><detail><error>` +
		`<errorid>` + strconv.Itoa(errorID) + `</errorid><module/><class>SP.Admin</class><method/></error></detail></Fault></Body></Envelope>`
}

func TestXMLAPIRejected(t *testing.T) {
	bigSuccess := `<Envelope><Body><RESULT><SUCCESS>TRUE</SUCCESS>` + strings.Repeat("<LIST><ID>1</ID></LIST>", 5000) + `</RESULT></Body></Envelope>`
	cases := []struct {
		name   string
		path   string
		status int
		body   string
		length int64 // Content-Length; -1 for unknown (chunked)
		want   bool
	}{
		{"401", "/XMLAPI", 401, "", 0, true},
		{"empty 200", "/XMLAPI", 200, "", 0, true},
		{"empty chunked 200", "/XMLAPI", 200, "", -1, true},
		{"blank 200", "/XMLAPI", 200, " \r\n", -1, true},
		{"fault 145", "/XMLAPI", 200, xmlAPIFault("false", 145), -1, true},
		{"fault 145, FALSE", "/XMLAPI", 200, xmlAPIFault("FALSE", 145), -1, true},
		{"fault 145, lower-case path", "/xmlapi", 200, xmlAPIFault("false", 145), -1, true},
		{"fault 145, session path parameter", "/XMLAPI;jsessionid=ABC", 200, xmlAPIFault("false", 145), -1, true},
		{"another fault", "/XMLAPI", 200, xmlAPIFault("false", 140), -1, false},
		{"success", "/XMLAPI", 200, `<Envelope><Body><RESULT><SUCCESS>true</SUCCESS></RESULT></Body></Envelope>`, -1, false},
		{"success spelled SUCCESS", "/XMLAPI", 200, `<Envelope><Body><RESULT><SUCCESS>SUCCESS</SUCCESS></RESULT></Body></Envelope>`, -1, false},
		{"success larger than the peek", "/XMLAPI", 200, bigSuccess, -1, false},
		{"not XML", "/XMLAPI", 200, "<html><body>maintenance</body></html>", -1, false},
		{"fault 145 with status 500", "/XMLAPI", 500, xmlAPIFault("false", 145), -1, false},
		{"fault 145 on a REST path", "/rest/databases", 200, xmlAPIFault("false", 145), -1, false},
		{"empty answer on a REST path", "/rest/databases", 200, "", 0, false},
		{"longer path", "/XMLAPIs", 200, "", 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			length := c.length
			if length == 0 {
				length = int64(len(c.body))
			}
			resp := &http.Response{
				StatusCode:    c.status,
				ContentLength: length,
				Body:          io.NopCloser(strings.NewReader(c.body)),
				Request:       &http.Request{Method: http.MethodPost, URL: &url.URL{Scheme: "https", Host: "api-campaign-us-1.goacoustic.com", Path: c.path}},
			}
			if got := acoustic.XMLAPIRejected(resp); got != c.want {
				t.Fatalf("XMLAPIRejected = %v, want %v", got, c.want)
			}
			rest, err := io.ReadAll(resp.Body)
			if err != nil || string(rest) != c.body {
				t.Errorf("the caller reads %d bytes (%v), want the whole body of %d", len(rest), err, len(c.body))
			}
		})
	}
}

func TestXMLAPIRejectedWithoutRequest(t *testing.T) {
	resp := &http.Response{StatusCode: 401, Body: http.NoBody}
	if acoustic.XMLAPIRejected(resp) {
		t.Error("a response without its request was judged an XML API rejection")
	}
}
