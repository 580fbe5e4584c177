package envelope_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tokentrip/tokentrip/envelope"
)

func ExampleInjectBytes() {
	request := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">` +
		`<soap:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"/></soap:Body></soap:Envelope>`

	out, err := envelope.InjectBytes([]byte(request), envelope.FuelOAuth("YOUR_ACCESS_TOKEN"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><fueloauth xmlns="http://exacttarget.com">YOUR_ACCESS_TOKEN</fueloauth></soap:Header><soap:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"/></soap:Body></soap:Envelope>
}

func ExampleNewReader() {
	body := strings.NewReader(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/><s:Body/></s:Envelope>`)

	// The injected envelope becomes the request body: NewReader checks the
	// envelope before anything is sent and gives the exact Content-Length.
	r, n, err := envelope.NewReader(body, int64(body.Len()), envelope.FuelOAuth("YOUR_ACCESS_TOKEN"))
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

// A refused envelope comes with no reader: nothing of it can be sent.
func ExampleNewReader_refused() {
	_, _, err := envelope.NewReader(strings.NewReader(`{"not": "an envelope"}`), -1, envelope.FuelOAuth("YOUR_ACCESS_TOKEN"))
	var refused *envelope.Error
	if errors.As(err, &refused) {
		fmt.Println(errors.Is(err, envelope.ErrMalformed), refused.Offset)
	}
	// Output: true 0
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
		fmt.Println(f.Version, f.Code.Local, f.Reason, f.IsAuth())
	}
	// Output: 1.1 Security Token Expired true
}
