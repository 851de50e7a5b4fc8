#!/usr/bin/env bash
# npm run lint:infra — cfn-lint and checkov over the packaged CloudFormation template.
#
# The template is packaged three times (offline, no AWS credentials): with the default params,
# with every optional feature on (alarm e-mail, change notices, config parameter with a KMS
# key, VPC, CloudTrail trail, permissions boundary, role path, CLI roles), and with every option
# on for a list of clusters (aws-auth-syncer.fleet.example.yaml: the cluster queue and function),
# because checkov drops resources whose condition is false and cfn-lint cannot follow an unused
# branch. Any finding fails the run: a finding that is accepted
# is suppressed in serverless.yml (resources.extensions / resources.Metadata) with its reason.
# The linters come from PyPI, pinned, cached by test/stack/lint-tools.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash test/stack/lint-tools.sh --print-env)"
out="$(mktemp -d "${TMPDIR:-/tmp}/aas-lint-infra-XXXXXX")"
trap 'rm -rf "$out"' EXIT

ALL_OPTIONS=(
  --param alarmEmail=ops@example.com
  --param notifyChanges=true
  --param configParameter=/eks/aws-auth-syncer/dev
  --param configParameterKmsKeyArn=arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
  --param vpcSubnetIds=subnet-0123456789abcdef0,subnet-0fedcba9876543210
  --param vpcSecurityGroupIds=sg-0123456789abcdef0
  --param createTrail=true
  --param permissionsBoundary=arn:aws:iam::111122223333:policy/org/developer-boundary
  --param rolePath=/platform/aws-auth-syncer/
  --param cliRoleArns=arn:aws:iam::111122223333:role/platform-admin
)

package() {
  local name="$1"; shift
  # No AWS credentials, profile or region: packaging must not need them.
  env $(env | sed -n 's/^\(AWS_[A-Z_]*\)=.*/-u \1/p') SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off \
    npx --no serverless package --package "$out/$name" "$@" >"$out/$name.log" 2>&1 \
    || { cat "$out/$name.log" >&2; echo "lint:infra: serverless package ($name) failed" >&2; exit 1; }
}

failed=0
for variant in default all-options fleet; do
  case $variant in
    default) package "$variant" ;;
    all-options) package "$variant" "${ALL_OPTIONS[@]}" ;;
    fleet) package "$variant" "${ALL_OPTIONS[@]}" --param configFile=aws-auth-syncer.fleet.example.yaml --param memberAccounts=222233334444,333344445555 ;;
  esac
  template="$out/$variant/cloudformation-template-update-stack.json"
  echo "== cfn-lint ($variant params)"
  "$AAS_CFN_LINT" "$template" && echo "no findings" || failed=1
  echo "== checkov ($variant params)"
  # --skip-download: no calls to Prisma Cloud for guidelines (offline, deterministic).
  "$AAS_CHECKOV" --file "$template" --framework cloudformation --compact --quiet --skip-download || failed=1
done
# The member stack (deploy/member-account.yaml) is plain CloudFormation: linted as it is.
echo "== cfn-lint (deploy/member-account.yaml)"
"$AAS_CFN_LINT" deploy/member-account.yaml && echo "no findings" || failed=1
echo "== checkov (deploy/member-account.yaml)"
"$AAS_CHECKOV" --file deploy/member-account.yaml --framework cloudformation --compact --quiet --skip-download || failed=1
if [[ $failed != 0 ]]; then
  echo "lint:infra: findings above; fix them or suppress each with its reason in serverless.yml" >&2
  exit 1
fi
echo "lint:infra: cfn-lint and checkov clean for all three param sets and the member stack"
