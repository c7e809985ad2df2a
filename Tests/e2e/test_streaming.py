"""InvokeEndpointWithResponseStream: AWS event-stream framing that boto3 reads unchanged."""
import json

import pytest
from botocore.exceptions import EventStreamError

STACK = "stacks/custom-server.yaml"


def stream(client, body, **kw):
    r = client.invoke_endpoint_with_response_stream(EndpointName="risk", Body=body, ContentType="text/csv", **kw)
    return r, [event for event in r["Body"]]


def test_a_streaming_server_arrives_as_payload_parts(mlgw):
    mlgw.run("apply", STACK, "--auto-approve")
    c = mlgw.client(STACK)
    rows = "\n".join(f"{i},50,1" for i in range(6)).encode()
    r, events = stream(c, rows, TargetVariant="rules", Accept="application/jsonlines")
    assert r["InvokedProductionVariant"] == "rules"
    assert r["ContentType"] == "application/jsonlines"
    parts = [e["PayloadPart"]["Bytes"] for e in events]
    assert len(parts) == 6  # one event per chunk the server flushed
    lines = [json.loads(p) for p in parts]
    assert [l["row"][0] for l in lines] == [0, 1, 2, 3, 4, 5]


def test_a_model_that_does_not_stream_arrives_in_one_part(mlgw):
    mlgw.run("apply", STACK, "--auto-approve")
    c = mlgw.client(STACK)
    r, events = stream(c, b"12,80.5,3\n1,1,1", TargetVariant="learned")
    assert r["InvokedProductionVariant"] == "learned"
    body = b"".join(e["PayloadPart"]["Bytes"] for e in events)
    assert len(body.split()) == 2


def test_errors_before_and_during_the_stream(mlgw):
    mlgw.run("apply", STACK, "--auto-approve")
    c = mlgw.client(STACK)
    # The model refuses before streaming: a plain ModelError.
    with pytest.raises(c.exceptions.ModelError):
        stream(c, b"1,2", TargetVariant="rules")
    # The model breaks mid-stream: the parts sent so far, then a ModelStreamError event.
    r = c.invoke_endpoint_with_response_stream(EndpointName="risk", Body=b"1,1,1\n2,2,2\nfail\n3,3,3", ContentType="text/csv",
                                                TargetVariant="rules", Accept="application/jsonlines")
    got = []
    with pytest.raises(EventStreamError) as err:
        for event in r["Body"]:
            got.append(event["PayloadPart"]["Bytes"])
    assert len(got) == 2
    assert err.value.response["Error"]["Code"] == "ModelStreamError"
    assert "failed while streaming" in err.value.response["Error"]["Message"]
    # The endpoint keeps serving afterwards.
    r, events = stream(c, b"4,4,4", TargetVariant="rules", Accept="application/jsonlines")
    assert len(events) == 1
