"""AWS half of smoke.sh: runs in the moto venv (boto3), reads AAS_* from stack.env.
TEST INFRASTRUCTURE."""
import base64
import os
import uuid

import boto3

env = os.environ
region = env["AAS_REGION"]
creds = dict(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
iam = boto3.client("iam", endpoint_url=env["AAS_MOTO_ENDPOINT"], **creds)
eks = boto3.client("eks", endpoint_url=env["AAS_EKS_ENDPOINT"], **creds)

suffix = uuid.uuid4().hex[:8]
user = "aas-smoke-%s" % suffix
iam.create_user(UserName=user, Path="/smoke/", Tags=[{"Key": "team", "Value": "a"}])
details = iam.get_account_authorization_details(Filter=["User"])
names = [u["UserName"] for u in details["UserDetailList"]]
assert user in names, names
print("ok   moto IAM CreateUser + GetAccountAuthorizationDetails (%d users)" % len(names))

role = iam.create_role(RoleName="aas-smoke-eks-" + suffix, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
cluster = "aas-smoke-" + suffix
eks.create_cluster(name=cluster, roleArn=role,
                   resourcesVpcConfig={"subnetIds": ["subnet-1"]})
c = eks.describe_cluster(name=cluster)["cluster"]
assert c["endpoint"] == env["AAS_KUBE_ENDPOINT"], c["endpoint"]
with open(env["AAS_CA_FILE"], "rb") as f:
    ca = f.read()
assert base64.b64decode(c["certificateAuthority"]["data"]) == ca, "CA not rewritten"
assert ca.startswith(b"-----BEGIN CERTIFICATE-----")
print("ok   EKS DescribeCluster through the proxy -> %s + stack CA" % c["endpoint"])
# Unrewritten on ministack directly (shows the proxy is what makes the difference).
raw = boto3.client("eks", endpoint_url=env["AAS_MINISTACK_ENDPOINT"], **creds).describe_cluster(name=cluster)
assert raw["cluster"]["endpoint"] != env["AAS_KUBE_ENDPOINT"]
eks.delete_cluster(name=cluster)
iam.delete_user(UserName=user)
