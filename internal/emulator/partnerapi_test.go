package emulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
)

// The partner WSDL fragment in testdata holds, for every operation, the element
// its request carries and the sequence its answer must follow. These tests read
// their expectations from it, so the emulator and the WSDL are checked against
// each other rather than against a copy of the emulator's own table.
const partnerWSDL = "testdata/partner-fragment.wsdl"

type wsdlDoc struct {
	Schema struct {
		Elements     []xsdElement     `xml:"element"`
		ComplexTypes []xsdComplexType `xml:"complexType"`
	} `xml:"types>schema"`
	Messages []struct {
		Name string `xml:"name,attr"`
		Part struct {
			Element string `xml:"element,attr"`
		} `xml:"part"`
	} `xml:"message"`
	Operations []struct {
		Name   string `xml:"name,attr"`
		Input  msgRef `xml:"input"`
		Output msgRef `xml:"output"`
	} `xml:"portType>operation"`
}

type msgRef struct {
	Message string `xml:"message,attr"`
}

type xsdElement struct {
	Name        string          `xml:"name,attr"`
	Type        string          `xml:"type,attr"`
	MinOccurs   string          `xml:"minOccurs,attr"`
	MaxOccurs   string          `xml:"maxOccurs,attr"`
	ComplexType *xsdComplexType `xml:"complexType"`
}

type xsdComplexType struct {
	Name      string        `xml:"name,attr"`
	Sequence  []xsdElement  `xml:"sequence>element"`
	Extension *xsdExtension `xml:"complexContent>extension"`
}

type xsdExtension struct {
	Base     string       `xml:"base,attr"`
	Sequence []xsdElement `xml:"sequence>element"`
}

// partnerOp is one operation of the WSDL: its request and answer elements.
type partnerOp struct{ name, request, response string }

func loadWSDL(t *testing.T) (*wsdlDoc, []partnerOp) {
	t.Helper()
	b, err := os.ReadFile(partnerWSDL)
	if err != nil {
		t.Fatal(err)
	}
	var w wsdlDoc
	if err := xml.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	parts := map[string]string{}
	for _, m := range w.Messages {
		parts["tns:"+m.Name] = strings.TrimPrefix(m.Part.Element, "tns:")
	}
	var ops []partnerOp
	for _, o := range w.Operations {
		ops = append(ops, partnerOp{o.Name, parts[o.Input.Message], parts[o.Output.Message]})
	}
	if len(ops) != 13 {
		t.Fatalf("the WSDL fragment has %d operations, want the partner API's 13", len(ops))
	}
	return &w, ops
}

// node is an element of an answer.
type node struct {
	XMLName  xml.Name
	Children []node `xml:",any"`
	Text     string `xml:",chardata"`
}

// validator checks elements against the fragment's schema.
type validator struct {
	elements map[string]xsdElement
	types    map[string]xsdComplexType
}

func newValidator(w *wsdlDoc) *validator {
	v := &validator{elements: map[string]xsdElement{}, types: map[string]xsdComplexType{}}
	for _, e := range w.Schema.Elements {
		v.elements[e.Name] = e
	}
	for _, c := range w.Schema.ComplexTypes {
		v.types[c.Name] = c
	}
	return v
}

// checkElement returns the first way n breaks the declaration of the global
// element named name, or nil.
func (v *validator) checkElement(n node, name string) error {
	decl, ok := v.elements[name]
	if !ok {
		return fmt.Errorf("the WSDL declares no element %s", name)
	}
	if n.XMLName != (xml.Name{Space: partnerAPINS, Local: name}) {
		return fmt.Errorf("the answer holds {%s}%s, want {%s}%s", n.XMLName.Space, n.XMLName.Local, partnerAPINS, name)
	}
	return v.checkContent(n, decl, name)
}

// checkContent checks n's content against the declaration d: a simple type, a
// named complex type, or an anonymous one.
func (v *validator) checkContent(n node, d xsdElement, path string) error {
	switch {
	case d.ComplexType != nil:
		return v.checkSequence(n, v.particles(*d.ComplexType), path)
	case strings.HasPrefix(d.Type, "tns:"):
		ct, ok := v.types[strings.TrimPrefix(d.Type, "tns:")]
		if !ok {
			return fmt.Errorf("%s: the WSDL declares no type %s", path, d.Type)
		}
		return v.checkSequence(n, v.particles(ct), path)
	}
	if len(n.Children) > 0 {
		return fmt.Errorf("%s: a %s holds elements", path, d.Type)
	}
	text := strings.TrimSpace(n.Text)
	var err error
	switch d.Type {
	case "xsd:int":
		_, err = strconv.ParseInt(text, 10, 32)
	case "xsd:boolean":
		_, err = strconv.ParseBool(text)
	case "xsd:dateTime":
		_, err = time.Parse(time.RFC3339, text)
	}
	if err != nil {
		return fmt.Errorf("%s: %q is no %s", path, text, d.Type)
	}
	return nil
}

// particles returns a complex type's sequence, its base type's elements first.
func (v *validator) particles(ct xsdComplexType) []xsdElement {
	if ct.Extension == nil {
		return ct.Sequence
	}
	base := v.particles(v.types[strings.TrimPrefix(ct.Extension.Base, "tns:")])
	return append(append([]xsdElement(nil), base...), ct.Extension.Sequence...)
}

// checkSequence matches n's children, in order, against the sequence.
func (v *validator) checkSequence(n node, seq []xsdElement, path string) error {
	kids := n.Children
	for _, p := range seq {
		lo, hi := occurs(p)
		count := 0
		for len(kids) > 0 && kids[0].XMLName.Local == p.Name && (hi < 0 || count < hi) {
			if kids[0].XMLName.Space != partnerAPINS {
				return fmt.Errorf("%s/%s is in namespace %q, want the partner API's", path, p.Name, kids[0].XMLName.Space)
			}
			if err := v.checkContent(kids[0], p, path+"/"+p.Name); err != nil {
				return err
			}
			kids, count = kids[1:], count+1
		}
		if count < lo {
			return fmt.Errorf("%s: %s is missing or out of order (%d of at least %d where the sequence wants it)", path, p.Name, count, lo)
		}
	}
	if len(kids) > 0 {
		return fmt.Errorf("%s: %s where the sequence allows nothing more (out of order or undeclared)", path, kids[0].XMLName.Local)
	}
	return nil
}

// occurs returns an element's minOccurs and maxOccurs (-1: unbounded).
func occurs(e xsdElement) (lo, hi int) {
	lo, hi = 1, 1
	if e.MinOccurs != "" {
		lo, _ = strconv.Atoi(e.MinOccurs)
	}
	switch e.MaxOccurs {
	case "":
	case "unbounded":
		hi = -1
	default:
		hi, _ = strconv.Atoi(e.MaxOccurs)
	}
	return lo, hi
}

// answerOf returns the element in the Body of a SOAP answer.
func answerOf(t *testing.T, body string) node {
	t.Helper()
	var env node
	if err := xml.Unmarshal([]byte(body), &env); err != nil {
		t.Fatalf("answer is not XML: %v\n%s", err, body)
	}
	for _, part := range env.Children {
		if part.XMLName.Local == "Body" && len(part.Children) == 1 {
			return part.Children[0]
		}
	}
	t.Fatalf("answer has no Body with one element:\n%s", body)
	return node{}
}

// mcServer starts a Marketing Cloud emulator core and returns its URL and a valid
// access token.
func mcServer(t *testing.T) (*Core, string, string) {
	t.Helper()
	core, mc := NewMarketingCloud(&MCConfig{})
	var url string
	core.Start(mc.ServeHTTP, false, &url)
	t.Cleanup(core.close)
	now := core.Now()
	tok := core.Tokens.Add(Token{Kind: AccessToken, ClientID: "c", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}).Value
	return core, url, tok
}

// soapRequest is a SOAP 1.1 envelope with a fueloauth header and body.
func soapRequest(tok, body string) string {
	return `<soap:Envelope xmlns:soap="` + SOAP11NS + `"><soap:Header><fueloauth xmlns="http://exacttarget.com">` + tok +
		`</fueloauth></soap:Header><soap:Body>` + body + `</soap:Body></soap:Envelope>`
}

func postSOAP(t *testing.T, url, action, envelope string) (int, string) {
	t.Helper()
	r := emulatortest.Send(t, http.DefaultClient, http.MethodPost, url+"/Service.asmx", "text/xml; charset=utf-8", envelope, "SOAPAction", action)
	return r.Status, r.Body
}

// Every operation of the partner WSDL gets an answer that follows the WSDL's
// sequence for its answer element, and the emulator answers no operation the WSDL
// lacks.
func TestPartnerAnswersFollowTheWSDL(t *testing.T) {
	w, ops := loadWSDL(t)
	v := newValidator(w)
	if len(partnerOperations) != len(ops) {
		t.Errorf("the emulator answers %d operations, the WSDL has %d", len(partnerOperations), len(ops))
	}
	_, url, tok := mcServer(t)
	for _, op := range ops {
		for _, objects := range []int{0, 1, 3} {
			t.Run(fmt.Sprintf("%s/%d objects", op.name, objects), func(t *testing.T) {
				own, ok := partnerOperations[op.request]
				if !ok || own.response != op.response || own.action != op.name {
					t.Fatalf("emulator's entry for %s = %+v, want action %s answering %s", op.request, own, op.name, op.response)
				}
				body := `<` + op.request + ` xmlns="` + partnerAPINS + `">` + strings.Repeat(`<Objects><CustomerKey>k</CustomerKey></Objects>`, objects) + `</` + op.request + `>`
				status, reply := postSOAP(t, url, op.name, soapRequest(tok, body))
				if status != http.StatusOK {
					t.Fatalf("status %d:\n%s", status, reply)
				}
				if !strings.Contains(reply, `<wsa:Action>`+op.name+`Response</wsa:Action>`) {
					t.Errorf("wsa:Action is not %sResponse:\n%s", op.name, reply)
				}
				answer := answerOf(t, reply)
				if err := v.checkElement(answer, op.response); err != nil {
					t.Fatalf("%v\n%s", err, reply)
				}
				// One result per object sent, where the answer has results per object.
				if strings.HasPrefix(op.request, "Create") || strings.HasPrefix(op.request, "Update") || strings.HasPrefix(op.request, "Delete") {
					got := 0
					for _, c := range answer.Children {
						if c.XMLName.Local == "Results" {
							got++
						}
					}
					if want := max(objects, 1); got != want {
						t.Errorf("%d Results for %d objects, want %d", got, objects, want)
					}
				}
			})
		}
	}
}

// The validator refuses what a strict client refuses: the answers tokentrip's
// emulator used to give (status before the results), and others out of order.
func TestWSDLValidatorRefusesDisorder(t *testing.T) {
	w, _ := loadWSDL(t)
	v := newValidator(w)
	const ns = ` xmlns="` + partnerAPINS + `"`
	result := `<Results><StatusCode>OK</StatusCode><StatusMessage>Created</StatusMessage><NewID>0</NewID></Results>`
	tests := []struct {
		name, element, xml, want string
	}{
		{"status first, no results", "CreateResponse",
			`<CreateResponse` + ns + `><OverallStatus>OK</OverallStatus><RequestID>r</RequestID></CreateResponse>`, "Results is missing"},
		{"results after the status", "CreateResponse",
			`<CreateResponse` + ns + `><RequestID>r</RequestID><OverallStatus>OK</OverallStatus>` + result + `</CreateResponse>`, "Results is missing"},
		{"no status", "UpdateResponse",
			`<UpdateResponse` + ns + `><Results><StatusCode>OK</StatusCode><StatusMessage>m</StatusMessage><Object/></Results></UpdateResponse>`, "OverallStatus is missing"},
		{"a result without its required NewID", "CreateResponse",
			`<CreateResponse` + ns + `><Results><StatusCode>OK</StatusCode><StatusMessage>m</StatusMessage></Results><OverallStatus>OK</OverallStatus></CreateResponse>`, "NewID is missing"},
		{"a DeleteResult without its Object", "DeleteResponse",
			`<DeleteResponse` + ns + `><Results><StatusCode>OK</StatusCode><StatusMessage>m</StatusMessage></Results><OverallStatus>OK</OverallStatus></DeleteResponse>`, "Object is missing"},
		{"Retrieve with RequestID before OverallStatus", "RetrieveResponseMsg",
			`<RetrieveResponseMsg` + ns + `><RequestID>r</RequestID><OverallStatus>OK</OverallStatus></RetrieveResponseMsg>`, "OverallStatus is missing"},
		{"Perform without OverallStatusMessage", "PerformResponseMsg",
			`<PerformResponseMsg` + ns + `><OverallStatus>OK</OverallStatus><RequestID>r</RequestID></PerformResponseMsg>`, "OverallStatusMessage is missing"},
		{"an undeclared element", "RetrieveResponseMsg",
			`<RetrieveResponseMsg` + ns + `><OverallStatus>OK</OverallStatus><Extra/></RetrieveResponseMsg>`, "Extra where the sequence allows nothing more"},
		{"an element in no namespace", "RetrieveResponseMsg",
			`<RetrieveResponseMsg` + ns + `><OverallStatus xmlns="">OK</OverallStatus></RetrieveResponseMsg>`, "namespace"},
		{"a NewID that is no int", "CreateResponse",
			`<CreateResponse` + ns + `><Results><StatusCode>OK</StatusCode><StatusMessage>m</StatusMessage><NewID>x</NewID></Results><OverallStatus>OK</OverallStatus></CreateResponse>`, "is no xsd:int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n node
			if err := xml.Unmarshal([]byte(tt.xml), &n); err != nil {
				t.Fatal(err)
			}
			err := v.checkElement(n, tt.element)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// A Body that holds no partner API operation gets a Client fault, counted as a
// malformed envelope.
func TestUnknownOperationIsAClientFault(t *testing.T) {
	tests := []struct{ name, body string }{
		{"unknown element", `<FrobnicateRequest xmlns="` + partnerAPINS + `"/>`},
		{"known element, other namespace", `<RetrieveRequestMsg xmlns="urn:other"/>`},
		{"empty Body", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, url, tok := mcServer(t)
			status, reply := postSOAP(t, url, "Retrieve", soapRequest(tok, tt.body))
			if status != http.StatusInternalServerError || !strings.Contains(reply, `<faultcode>soap:Client</faultcode>`) ||
				!strings.Contains(reply, "no partner API operation") || strings.Contains(reply, "OverallStatus") {
				t.Errorf("%d %s", status, reply)
			}
			if got := core.Controls().Stats().Rejections; got[ReasonMalformedEnvelope] != 1 || len(got) != 1 {
				t.Errorf("rejections = %v", got)
			}
		})
	}
}

// zeepPython returns a python3 that can import zeep, or "" with the reason.
func zeepPython() (string, string) {
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import zeep").Run() == nil {
			return path, ""
		}
	}
	return "", "no python3 with zeep (Debian: apt-get install python3-zeep)"
}

type zeepLine struct {
	Op            string `json:"op"`
	OK            bool   `json:"ok"`
	Error         string `json:"error"`
	OverallStatus string `json:"overall_status"`
	Results       *int   `json:"results"`
}

func runZeep(t *testing.T, py, url, tok string, ops ...string) map[string]zeepLine {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), py, append([]string{"testdata/zeep_check.py", partnerWSDL, url, tok}, ops...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zeep_check.py: %v\n%s", err, stderr.String())
	}
	lines := map[string]zeepLine{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var l zeepLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("zeep_check.py said %q: %v", sc.Text(), err)
		}
		lines[l.Op] = l
	}
	return lines
}

// zeep, in its default strict mode, takes every answer the emulator gives, and
// refuses the answer the emulator used to give to Create.
func TestZeepStrictParsesEveryAnswer(t *testing.T) {
	py, why := zeepPython()
	if py == "" {
		t.Skip("skipping the zeep check: " + why)
	}
	_, ops := loadWSDL(t)
	_, url, tok := mcServer(t)
	lines := runZeep(t, py, url, tok)
	if len(lines) != len(ops) {
		t.Errorf("zeep reported %d operations, want %d", len(lines), len(ops))
	}
	for _, op := range ops {
		l, ok := lines[op.name]
		switch {
		case !ok:
			t.Errorf("%s: zeep did not report it", op.name)
		case !l.OK:
			t.Errorf("%s: zeep refused the answer: %s", op.name, l.Error)
		case op.name == "Describe" || op.name == "VersionInfo":
		case l.OverallStatus != "OK":
			t.Errorf("%s: OverallStatus %q", op.name, l.OverallStatus)
		}
	}
	for _, op := range []string{"Create", "Update", "Delete"} {
		if l := lines[op]; l.Results == nil || *l.Results != 2 {
			t.Errorf("%s: zeep read %v Results for 2 objects", op, l.Results)
		}
	}

	// The old answer, status before results: zeep refuses it.
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = io.WriteString(w, `<soap:Envelope xmlns:soap="`+SOAP11NS+`"><soap:Body><CreateResponse xmlns="`+partnerAPINS+`">`+
			`<OverallStatus>OK</OverallStatus><RequestID>r</RequestID></CreateResponse></soap:Body></soap:Envelope>`)
	}))
	defer old.Close()
	if l := runZeep(t, py, old.URL, tok, "Create")["Create"]; l.OK {
		t.Errorf("zeep took an answer without Results, out of the WSDL's order: %+v", l)
	}
}
