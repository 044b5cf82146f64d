"""Sets up a Cognito user pool in moto's server and prints its tokens as JSON.

Used by kiss-testkit: real RS256 ID tokens carrying cognito:groups, signed by
the key whose JWKS moto serves. The private key is printed too, so tests can
sign tokens the IdP would never issue (expired, wrong audience, ...).
"""
import argparse
import gzip
import json
import os
import sys

import boto3
from joserfc.jwk import RSAKey
import moto.cognitoidp


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--users", required=True, help='[["email", ["group", ...]], ...]')
    parser.add_argument("--region", default="eu-west-1")
    args = parser.parse_args()

    idp = boto3.client(
        "cognito-idp",
        endpoint_url=args.endpoint,
        region_name=args.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    pool = idp.create_user_pool(PoolName="kiss-test", UsernameAttributes=["email"])["UserPool"]
    pool_id = pool["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="kiss",
        ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"],
        # moto puts only readable attributes in ID tokens; Cognito puts these.
        ReadAttributes=["email", "email_verified"],
    )["UserPoolClient"]["ClientId"]

    tokens = {}
    groups_made = set()
    password = "Kiss-test-password-1!"
    for email, groups in json.loads(args.users):
        idp.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            # Verified, as an invited user's address is: kiss-server refuses
            # e-mail identifiers without email_verified (moto emits "true").
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
        idp.admin_set_user_password(
            UserPoolId=pool_id, Username=email, Password=password, Permanent=True
        )
        for group in groups:
            if group not in groups_made:
                idp.create_group(UserPoolId=pool_id, GroupName=group)
                groups_made.add(group)
            idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
        auth = idp.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_NO_SRP_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        tokens[email] = auth["AuthenticationResult"]["IdToken"]

    key_path = os.path.join(os.path.dirname(moto.cognitoidp.__file__), "resources", "jwks-private.json.gz")
    with gzip.open(key_path, "rt") as f:
        private = json.load(f)
    pem = RSAKey.import_key(private).as_pem(private=True).decode()

    json.dump(
        {
            "pool_id": pool_id,
            "client_id": client_id,
            "issuer": f"https://cognito-idp.{args.region}.amazonaws.com/{pool_id}",
            "jwks_url": f"{args.endpoint}/{pool_id}/.well-known/jwks.json",
            "kid": private.get("kid", "dummy"),
            "private_key_pem": pem,
            "tokens": tokens,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
