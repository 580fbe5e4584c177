package emulator

import (
	"slices"
	"strconv"
	"strings"
)

// partnerOperation is how the emulator answers one operation of Marketing Cloud's
// partner API (its SOAP WSDL).
type partnerOperation struct {
	action   string                   // the operation, as SOAPAction and WS-Addressing name it
	response string                   // the element the answer's Body holds
	fill     func(objects int) string // the response element's content, in the WSDL's order
}

// partnerOperations maps the element a request's Body holds to its operation. Each
// answer is a success with the elements the WSDL's sequence requires, in its
// order: Create, Update and Delete put one Results per object before RequestID and
// OverallStatus; Retrieve, Query, Execute and Extract put OverallStatus first and
// return no Results; Perform, Configure, Schedule and GetSystemStatus end with
// OverallStatus, OverallStatusMessage and RequestID.
var partnerOperations = map[string]partnerOperation{
	"CreateRequest":        {"Create", "CreateResponse", resultsFirst("Created", createdFields)},
	"UpdateRequest":        {"Update", "UpdateResponse", resultsFirst("Updated", objectField)},
	"DeleteRequest":        {"Delete", "DeleteResponse", resultsFirst("Deleted", objectField)},
	"RetrieveRequestMsg":   {"Retrieve", "RetrieveResponseMsg", statusFirst},
	"QueryRequestMsg":      {"Query", "QueryResponseMsg", statusFirst},
	"ExecuteRequestMsg":    {"Execute", "ExecuteResponseMsg", statusFirst},
	"ExtractRequestMsg":    {"Extract", "ExtractResponseMsg", statusFirst},
	"DefinitionRequestMsg": {"Describe", "DefinitionResponseMsg", requestIDOnly},
	"PerformRequestMsg":    {"Perform", "PerformResponseMsg", statusLast("")},
	"ConfigureRequestMsg":  {"Configure", "ConfigureResponseMsg", statusLast("")},
	"ScheduleRequestMsg":   {"Schedule", "ScheduleResponseMsg", statusLast("")},
	"SystemStatusRequestMsg": {"GetSystemStatus", "SystemStatusResponseMsg", statusLast(
		`<Results><Result><StatusCode>OK</StatusCode><StatusMessage>System Status Retrieved</StatusMessage><SystemStatus>OK</SystemStatus></Result></Results>`)},
	"VersionInfoRequestMsg": {"VersionInfo", "VersionInfoResponseMsg", versionInfo},
}

// answer renders the whole response element.
func (op partnerOperation) answer(objects int) string {
	return `<` + op.response + ` xmlns="` + partnerAPINS + `">` + op.fill(objects) + `</` + op.response + `>`
}

// resultsFirst fills a Create, Update or Delete answer: one Results per object
// sent (at least one, as the WSDL requires), with the Result fields and the
// operation's own after them, then RequestID and OverallStatus.
func resultsFirst(message string, fields func() string) func(int) string {
	return func(objects int) string {
		var b strings.Builder
		for i := range max(objects, 1) {
			b.WriteString(`<Results><StatusCode>OK</StatusCode><StatusMessage>` + message + `</StatusMessage><OrdinalID>` +
				strconv.Itoa(i) + `</OrdinalID>` + fields() + `</Results>`)
		}
		b.WriteString(`<RequestID>` + NewUUID() + `</RequestID><OverallStatus>OK</OverallStatus>`)
		return b.String()
	}
}

// createdFields are what a CreateResult adds to a Result: the new object's ids.
func createdFields() string { return `<NewID>0</NewID><NewObjectID>` + NewUUID() + `</NewObjectID>` }

// objectField is what UpdateResult and DeleteResult add to a Result: the object.
func objectField() string { return `<Object/>` }

func statusFirst(int) string {
	return `<OverallStatus>OK</OverallStatus><RequestID>` + NewUUID() + `</RequestID>`
}

func requestIDOnly(int) string { return `<RequestID>` + NewUUID() + `</RequestID>` }

// statusLast fills the answers whose optional Results come first and whose status
// and request id come last.
func statusLast(results string) func(int) string {
	return func(int) string {
		return results + `<OverallStatus>OK</OverallStatus><OverallStatusMessage/><RequestID>` + NewUUID() + `</RequestID>`
	}
}

func versionInfo(int) string {
	return `<VersionInfo><Version>1.0</Version><VersionDate>2026-01-01T00:00:00Z</VersionDate><Notes>tokentrip emulator</Notes></VersionInfo>` +
		`<RequestID>` + NewUUID() + `</RequestID>`
}

// unknownOperation is the fault string for a Body the partner API has no
// operation for.
func unknownOperation(env *Envelope) string {
	names := make([]string, 0, len(partnerOperations))
	for name := range partnerOperations {
		names = append(names, name)
	}
	slices.Sort(names)
	return "The Body holds {" + env.OperationNS + "}" + env.Operation +
		", which is no partner API operation; send one of " + strings.Join(names, ", ") + " in " + partnerAPINS + "."
}
