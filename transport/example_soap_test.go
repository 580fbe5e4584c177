package transport_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/transport"
)

// Options.SOAP puts the token into the Header of every SOAP envelope sent to the
// credential's hosts — here Marketing Cloud's fueloauth block, which the mcv1 and
// mcv2 providers set by themselves — instead of an Authorization header. The body
// after the Header streams through as it was.
func ExampleOptions_soap() {
	received := make(chan string, 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		received <- fmt.Sprintf("Authorization: %q\n%s", r.Header.Get("Authorization"), body)
	}))
	defer api.Close()

	src := transport.NewSource(fetchFunc(func(context.Context) (transport.Token, error) {
		return transport.Token{AccessToken: "token-1", Expiry: time.Now().Add(20 * time.Minute)}, nil
	}), transport.Settings{})
	client := &http.Client{Transport: transport.New(src, transport.Options{Hosts: []string{api.URL}, SOAP: func(tok transport.Token) envelope.Credential { return envelope.FuelOAuth(tok.AccessToken) }})}
	defer client.CloseIdleConnections()

	msg := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"/></s:Body></s:Envelope>`
	resp, err := client.Post(api.URL+"/Service.asmx", "text/xml; charset=utf-8", strings.NewReader(msg))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(<-received)
	// Output:
	// Authorization: ""
	// <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><fueloauth xmlns="http://exacttarget.com">token-1</fueloauth></s:Header><s:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"/></s:Body></s:Envelope>
}
