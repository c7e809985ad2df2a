"""The v2 scoring function of stacks/fraud-gateway, written as for AWS Lambda behind an HTTP API.

It validates the JSON request, reshapes it into the CSV row the model takes, calls the endpoint with
boto3 (AWS_ENDPOINT_URL points boto3 at the environment, as it would at AWS), optionally pinning the
variant named by the `x-variant` header, and answers with JSON. Nothing here knows it runs locally.
"""
import json
import os

import boto3

FEATURES = ["amount", "hour", "merchant_risk", "txn_count_24h"]
runtime = boto3.client("sagemaker-runtime")


def answer(status, body):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def handler(event, context):
    try:
        request = json.loads(event.get("body") or "{}")
    except json.JSONDecodeError:
        return answer(400, {"error": "the body must be JSON"})
    missing = [f for f in FEATURES if not isinstance(request.get(f), (int, float))]
    if missing:
        return answer(400, {"error": "missing or non-numeric fields", "fields": missing})
    row = ",".join(str(request[f]) for f in FEATURES)
    kwargs = {"EndpointName": os.environ["ENDPOINT_NAME"], "ContentType": "text/csv", "Body": row}
    variant = (event.get("headers") or {}).get("x-variant")
    if variant:
        kwargs["TargetVariant"] = variant
    try:
        response = runtime.invoke_endpoint(**kwargs)
    except runtime.exceptions.ValidationError as e:
        return answer(400, {"error": str(e)})
    probability = float(response["Body"].read().decode().strip().splitlines()[0])
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt", {}).get("claims", {})
    return answer(200, {
        "fraud_probability": round(probability, 6),
        "decision": "review" if probability >= float(os.environ.get("REVIEW_THRESHOLD", "0.5")) else "approve",
        "variant": response["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-invoked-production-variant"),
        "caller": claims.get("sub"),
    })
