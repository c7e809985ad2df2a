"""The v2 scoring function of stacks/enterprise: the Lambda pattern of the ML gateway.

It reads the customer's features from the feature store with boto3 (GetRecord), appends them to
the transaction's four features from the request body (a CSV row), and calls the endpoint.
AWS_ENDPOINT_URL points boto3 at the environment, as it would at AWS; nothing here knows it runs
locally.
"""
import json
import os

import boto3

FEATURES = ["age", "spend_30d"]
features = boto3.client("sagemaker-featurestore-runtime")
runtime = boto3.client("sagemaker-runtime")


def answer(status, body):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def handler(event, context):
    customer = (event.get("pathParameters") or {}).get("customer_id")
    row = (event.get("body") or "").strip()
    if not customer or not row:
        return answer(400, {"error": "POST /score/{customer_id} with the transaction's features as a CSV row"})
    record = features.get_record(FeatureGroupName=os.environ["FEATURE_GROUP"], RecordIdentifierValueAsString=customer,
                                 FeatureNames=FEATURES).get("Record")
    if not record:
        return answer(404, {"error": f"no features for customer {customer}"})
    values = {f["FeatureName"]: f["ValueAsString"] for f in record}
    body = row + "," + ",".join(values[f] for f in FEATURES)
    response = runtime.invoke_endpoint(EndpointName=os.environ["ENDPOINT_NAME"], ContentType="text/csv", Body=body)
    return answer(200, {
        "fraud_probability": round(float(response["Body"].read().decode().strip()), 6),
        "variant": response["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-invoked-production-variant"),
    })
