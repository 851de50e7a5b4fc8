// Values serverless.yml derives from its params, so that the alarm period and the IAM scope of
// the config parameter can never disagree with the params they come from. osls loads it for
// `${file(./deploy/params.cjs):<name>}` with require() (hence CommonJS in this ESM project) and
// calls it with its variable resolver. A bad param fails `serverless package` with the message.
'use strict';

const SECONDS = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86400, days: 86400 };
/** CloudWatch evaluates at most 7 days of periods of an hour or longer: 2 periods must fit. */
const MAX_PERIOD_SECONDS = (7 * 86400) / 2;

/** Seconds between two drift-schedule runs, from `rate(N unit)`. */
function schedulePeriodSeconds(schedule) {
  const m = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(schedule.trim());
  if (!m) {
    throw new Error(
      `param schedule ${JSON.stringify(schedule)}: use rate(N minutes|hours|days); the alarm "no successful sync within two schedule periods" needs the period`,
    );
  }
  const seconds = Number(m[1]) * SECONDS[m[2]];
  if (seconds < 60 || seconds > MAX_PERIOD_SECONDS) {
    throw new Error(
      `param schedule ${JSON.stringify(schedule)}: the period must be between 1 minute and 3.5 days (two periods must fit CloudWatch's 7-day alarm window)`,
    );
  }
  return seconds;
}

/** A template value: Fn::Sub when it names pseudo parameters, else the plain string (cfn-lint W1020). */
const sub = (text) => (text.includes('${') ? { 'Fn::Sub': text } : text);

/** The parameter's ARN for ssm:GetParameter, from a name (`/a/b`, `a.b`) or an ARN. */
function configParameterArn(name) {
  const n = name.trim();
  // Unset: only used by a resource whose condition is then false; it must still read as an ARN.
  if (n === '') return sub('arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/none');
  if (n.startsWith('arn:')) {
    if (!/^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9_.\-/]{1,2048}$/.test(n))
      throw new Error(`param configParameter ${JSON.stringify(name)}: not an SSM parameter ARN`);
    return n;
  }
  if (!/^\/?[A-Za-z0-9_.\-/]{1,2048}$/.test(n) || n.includes('//')) {
    throw new Error(`param configParameter ${JSON.stringify(name)}: not an SSM parameter name (letters, digits, _ . - /) or parameter ARN`);
  }
  if (/^\/?(aws|ssm)/i.test(n)) {
    throw new Error(
      `param configParameter ${JSON.stringify(name)}: SSM reserves names starting with "aws" or "ssm"; use a name such as /eks/aws-auth-syncer/prod`,
    );
  }
  return sub(`arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/${n.replace(/^\//, '')}`);
}

/** The customer managed key of a SecureString config parameter; a never-deployed placeholder when unset. */
function configParameterKmsKeyArn(arn) {
  const a = arn.trim();
  // Only used by a resource whose condition is then false; it must still read as an ARN for cfn-lint.
  if (a === '') return sub('arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/none');
  if (!/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-)?[0-9a-f-]{32,36}$/.test(a)) {
    throw new Error(`param configParameterKmsKeyArn ${JSON.stringify(arn)}: must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>)`);
  }
  return a;
}

/**
 * The functions' VpcConfig: both id lists, or none at all (CloudFormation's AWS::NoValue). One
 * list without the other is refused here, at package time, rather than by Lambda at deploy time.
 */
function vpcConfig(subnets, securityGroups) {
  const list = (v) =>
    v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  const s = list(subnets);
  const g = list(securityGroups);
  if (s.length === 0 && g.length === 0) return { Ref: 'AWS::NoValue' };
  if (s.length === 0 || g.length === 0) throw new Error('params vpcSubnetIds and vpcSecurityGroupIds: give both (comma-separated ids) or neither');
  for (const id of s) if (!/^subnet-[0-9a-f]{8,17}$/.test(id)) throw new Error(`param vpcSubnetIds: ${JSON.stringify(id)} is not a subnet id (subnet-…)`);
  for (const id of g)
    if (!/^sg-[0-9a-f]{8,17}$/.test(id)) throw new Error(`param vpcSecurityGroupIds: ${JSON.stringify(id)} is not a security group id (sg-…)`);
  return { SubnetIds: s, SecurityGroupIds: g };
}

/**
 * The principals of the central event bus policy: the member accounts whose IAM events
 * (deploy/member-account.yaml) this account's default bus accepts. A placeholder when unset: the
 * policy's condition is then false.
 */
function memberAccountPrincipals(accounts) {
  const ids = accounts
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (ids.length === 0) return [sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root')];
  for (const id of ids) if (!/^\d{12}$/.test(id)) throw new Error(`param memberAccounts: ${JSON.stringify(id)} is not an AWS account id (12 digits)`);
  return [...new Set(ids)].map((id) => sub(`arn:\${AWS::Partition}:iam::${id}:root`));
}

module.exports = async ({ resolveVariable }) => {
  const param = async (name) => String(await resolveVariable(`param:${name}`));
  return {
    schedulePeriodSeconds: schedulePeriodSeconds(await param('schedule')),
    configParameterArn: configParameterArn(await param('configParameter')),
    configParameterKmsKeyArn: configParameterKmsKeyArn(await param('configParameterKmsKeyArn')),
    vpcConfig: vpcConfig(await param('vpcSubnetIds'), await param('vpcSecurityGroupIds')),
    memberAccountPrincipals: memberAccountPrincipals(await param('memberAccounts')),
  };
};
Object.assign(module.exports, { schedulePeriodSeconds, configParameterArn, configParameterKmsKeyArn, vpcConfig, memberAccountPrincipals });
