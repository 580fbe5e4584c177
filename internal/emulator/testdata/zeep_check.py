"""Call partner API operations on a running Marketing Cloud emulator with zeep in
strict mode, the way a Python team's client would, and print one JSON line per
operation: {"op", "ok", "error", "overall_status", "results"}.

Usage: zeep_check.py WSDL BASE_URL ACCESS_TOKEN [OPERATION ...]
Without operations it calls every operation of the WSDL's binding.
"""
import json
import sys

from lxml import etree
import zeep

PARTNER = "{http://exacttarget.com/wsdl/partnerAPI}"

# Arguments for each operation, valid against the WSDL fragment.
OBJECTS = dict(Options={}, Objects=[{"CustomerKey": "a"}, {"CustomerKey": "b"}])
CALLS = {
    "Create": OBJECTS,
    "Update": OBJECTS,
    "Delete": OBJECTS,
    "Retrieve": dict(RetrieveRequest={"ObjectType": "Subscriber", "Properties": ["EmailAddress"]}),
    "Query": dict(QueryRequest={"Query": {"Object": {"ObjectType": "Subscriber", "Properties": ["EmailAddress"]}}}),
    "Describe": dict(DescribeRequests={"ObjectDefinitionRequest": [{"ObjectType": "Subscriber"}]}),
    "Execute": dict(Requests=[{"Name": "LogUnsubEvent"}]),
    "Perform": dict(Action="start"),
    "Configure": dict(Action="update"),
    "Schedule": dict(Action="start"),
    "VersionInfo": dict(IncludeVersionHistory=False),
    "Extract": dict(),
    "GetSystemStatus": dict(),
}


def main():
    wsdl, base, token = sys.argv[1:4]
    client = zeep.Client(wsdl, settings=zeep.Settings(strict=True))
    service = client.create_service(PARTNER + "SoapBinding", base + "/Service.asmx")
    header = etree.Element("{http://exacttarget.com}fueloauth")
    header.text = token
    ops = sys.argv[4:] or sorted(client.service._binding._operations)
    for op in ops:
        line = {"op": op, "ok": False}
        try:
            answer = getattr(service, op)(_soapheaders=[header], **CALLS.get(op, {}))
            line["ok"] = True
            line["overall_status"] = getattr(answer, "OverallStatus", None)
            results = getattr(answer, "Results", None)
            if isinstance(results, list):
                line["results"] = len(results)
        except Exception as e:  # every failure is reported, none stops the others
            line["error"] = "%s: %s" % (type(e).__name__, e)
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
