package mcv2_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"

	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// A SOAP call: the envelope goes out without credentials, to the SOAP instance URL
// that came with the token, and the Transport puts the token into its Header as a
// fueloauth block. A generated SOAP client does the same through the *http.Client.
func Example_soap() {
	srv := mcv2test.NewServer()
	defer srv.Close()
	tr, err := mcv2.NewTransport(mcv2.Config{
		AuthURL:      srv.URL, // an emulator; in production, Subdomain
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	tok, err := tr.Source().Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: tr}

	envelope := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Body>
    <RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI">
      <RetrieveRequest><ObjectType>DataExtension</ObjectType><Properties>Name</Properties></RetrieveRequest>
    </RetrieveRequestMsg>
  </s:Body>
</s:Envelope>`
	resp, err := client.Post(tok.SOAPInstanceURL+"Service.asmx", "text/xml; charset=utf-8", strings.NewReader(envelope))
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status)
	fmt.Println("OverallStatus OK:", bytes.Contains(body, []byte("<OverallStatus>OK</OverallStatus>")))
	fmt.Println("the envelope carried fueloauth:", bytes.Contains(srv.LastEnvelope(), []byte(`<fueloauth xmlns="http://exacttarget.com">`)))
	// Output:
	// 200 OK
	// OverallStatus OK: true
	// the envelope carried fueloauth: true
}
