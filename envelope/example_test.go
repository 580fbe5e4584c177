package envelope_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/tokentrip/tokentrip/envelope"
)

func ExampleInject() {
	request := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">` +
		`<soap:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"/></soap:Body></soap:Envelope>`

	_, err := envelope.Inject(os.Stdout, strings.NewReader(request), envelope.FuelOAuth("YOUR_ACCESS_TOKEN"))
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><fueloauth xmlns="http://exacttarget.com">YOUR_ACCESS_TOKEN</fueloauth></soap:Header><soap:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"/></soap:Body></soap:Envelope>
}

func ExampleNewReader() {
	body := strings.NewReader(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/><s:Body/></s:Envelope>`)

	// The injected envelope becomes the request body; OutputLen checks the
	// envelope before anything is sent and keeps Content-Length exact.
	r := envelope.NewReader(body, envelope.FuelOAuth("YOUR_ACCESS_TOKEN"))
	n, err := r.OutputLen(int64(body.Len()))
	if err != nil {
		fmt.Println(err)
		return
	}
	req, err := http.NewRequest(http.MethodPost, "https://YOUR_SUBDOMAIN.soap.marketingcloudapis.com/Service.asmx", r)
	if err != nil {
		fmt.Println(err)
		return
	}
	req.ContentLength = n
	fmt.Println(req.ContentLength)
	// Output: 178
}

func ExampleUsernameToken() {
	c := envelope.UsernameToken(envelope.UsernameTokenConfig{Username: "api.user", Password: "secret"})
	out, err := envelope.InjectBytes([]byte(`<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Body/></Envelope>`), c)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	fmt.Println(c) // the password never shows
	// Output:
	// <Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:soap="http://www.w3.org/2003/05/soap-envelope" soap:mustUnderstand="1"><wsse:UsernameToken><wsse:Username>api.user</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">secret</wsse:Password></wsse:UsernameToken></wsse:Security></Header><Body/></Envelope>
	// UsernameToken({Username:api.user Password:[redacted] PasswordType:PasswordText Nonce:false Created:false})
}

func ExampleParseFault() {
	// Marketing Cloud's answer (HTTP 500) to an expired token.
	response := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>` +
		`<faultcode xmlns:q0="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">q0:Security</faultcode>` +
		`<faultstring>Token Expired</faultstring></soap:Fault></soap:Body></soap:Envelope>`

	f, err := envelope.ParseFault(strings.NewReader(response), 64<<10)
	switch {
	case errors.Is(err, envelope.ErrNoFault):
		fmt.Println("not a fault")
	case err != nil:
		fmt.Println("unreadable:", err)
	default:
		fmt.Println(f.Code.Local, f.Code.Space == envelope.NamespaceWSSE)
		fmt.Println(f.Reason, f.IsAuth())
	}
	// Output:
	// Security true
	// Token Expired true
}

func ExampleParseXMLAPIResult() {
	response := `<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault>` +
		`<FaultString><![CDATA[Session has expired or is invalid]]></FaultString>` +
		`<detail><error><errorid>145</errorid><class>SP.Admin</class></error></detail></Fault></Body></Envelope>`

	res, err := envelope.ParseXMLAPIResult(strings.NewReader(response), 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.ErrorID, res.FaultString, res.IsAuth())
	// Output: 145 Session has expired or is invalid true
}
