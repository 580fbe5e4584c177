package transport_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tokentrip/tokentrip/transport"
)

// WithSOAP puts the token into the Header of every SOAP envelope sent to the
// credential's hosts — here Marketing Cloud's fueloauth block — instead of an
// Authorization header. The body after the Header streams through as it was.
func ExampleWithSOAP() {
	received := make(chan string, 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		received <- fmt.Sprintf("Authorization: %q\n%s", r.Header.Get("Authorization"), body)
	}))
	defer api.Close()

	src := transport.NewSource(transport.ProviderFunc(func(context.Context) (transport.Token, error) {
		return transport.Token{AccessToken: "token-1", Expiry: time.Now().Add(20 * time.Minute)}, nil
	}))
	client := &http.Client{Transport: transport.New(src,
		transport.WithSOAP(transport.FuelOAuth),
		transport.WithHosts(api.URL))}
	defer client.CloseIdleConnections()

	envelope := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"/></s:Body></s:Envelope>`
	resp, err := client.Post(api.URL+"/Service.asmx", "text/xml; charset=utf-8", strings.NewReader(envelope))
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
