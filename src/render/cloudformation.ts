/**
 * Rendered CloudFormation templates: parsing YAML with CloudFormation's short-form tags (`!Ref`, `!Sub`, `!GetAtt`...),
 * and the outputs a template declares, with the values proton-local can know without AWS.
 *
 * CDK-free: proton-local and the constructs both use it.
 */
import { createHash } from 'node:crypto';
import { CollectionTag, parse as parseYaml, ScalarTag, YAMLMap, YAMLSeq } from 'yaml';
import { resolveValue, ResolveContext, TemplateError } from '../local/deploy/intrinsics';

/** A template that failed to render or parse; the message names the file and the line. */
export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RenderError';
  }
}

/** CloudFormation's short-form functions ("Intrinsic function reference"): `!Name` stands for `Fn::Name` (`!Ref` for `Ref`). */
const SHORT_FORM_FUNCTIONS = [
  'Ref', 'Condition', 'Base64', 'Cidr', 'FindInMap', 'GetAtt', 'GetAZs', 'ImportValue', 'Join', 'Select', 'Split', 'Sub',
  'Transform', 'And', 'Equals', 'If', 'Not', 'Or', 'Length', 'ToJsonString', 'ForEach',
];

function longForm(name: string): string {
  return name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
}

/**
 * yaml tags turning each short form into its long form, for scalars, sequences and mappings alike
 * (`!GetAtt Res.Arn` becomes `{ "Fn::GetAtt": ["Res", "Arn"] }`, as CloudFormation reads it).
 */
const CLOUDFORMATION_TAGS: Array<ScalarTag | CollectionTag> = SHORT_FORM_FUNCTIONS.flatMap(name => {
  const key = longForm(name);
  const wrap = (value: unknown) => {
    if (name === 'GetAtt' && typeof value === 'string' && value.includes('.')) {
      const dot = value.indexOf('.');
      return { [key]: [value.slice(0, dot), value.slice(dot + 1)] };
    }
    return { [key]: value };
  };
  return [
    { tag: `!${name}`, resolve: (value: string) => wrap(value) } as ScalarTag,
    { tag: `!${name}`, collection: 'seq', resolve: (seq: YAMLSeq) => wrap(seq.toJSON()) } as unknown as CollectionTag,
    { tag: `!${name}`, collection: 'map', resolve: (map: YAMLMap) => wrap(map.toJSON()) } as unknown as CollectionTag,
  ];
});

/** A parsed CloudFormation template: the sections proton-local reads. */
export interface CloudFormationTemplate {
  readonly Parameters?: { [name: string]: { Default?: unknown } };
  readonly Resources?: { [logicalId: string]: { Type?: string } };
  readonly Conditions?: { [name: string]: unknown };
  readonly Outputs?: { [name: string]: { Value?: unknown } };
  readonly [section: string]: unknown;
}

/**
 * Parses a rendered CloudFormation template (YAML or JSON, short-form tags included).
 *
 * @throws RenderError naming the file, the line and the YAML problem; or when the document is not a mapping
 */
export function parseCloudFormation(text: string, file: string): CloudFormationTemplate {
  let document: unknown;
  try {
    // CloudFormation rejects duplicate keys too; 'error' keeps warnings off the console.
    document = parseYaml(text, { customTags: CLOUDFORMATION_TAGS, uniqueKeys: true, logLevel: 'error', prettyErrors: true });
  } catch (e) {
    throw new RenderError(`${file}: the rendered template is not valid YAML: ${oneLine((e as Error).message)}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new RenderError(`${file}: the rendered template must be a YAML mapping of CloudFormation sections, got ${describe(document)}`);
  }
  return document as CloudFormationTemplate;
}

/** The output keys a template declares, in template order. */
export function declaredOutputs(template: CloudFormationTemplate): string[] {
  const outputs = template.Outputs;
  return outputs && typeof outputs === 'object' && !Array.isArray(outputs) ? Object.keys(outputs) : [];
}

/** The id prefix of EC2 resource types whose Ref is an id (CloudFormation's "Return values"). */
const EC2_ID_PREFIX: { [type: string]: string } = {
  'AWS::EC2::VPC': 'vpc',
  'AWS::EC2::Subnet': 'subnet',
  'AWS::EC2::SecurityGroup': 'sg',
  'AWS::EC2::InternetGateway': 'igw',
  'AWS::EC2::NatGateway': 'nat',
  'AWS::EC2::RouteTable': 'rtb',
  'AWS::EC2::NetworkAcl': 'acl',
  'AWS::EC2::VPCEndpoint': 'vpce',
  'AWS::EC2::Instance': 'i',
  'AWS::EC2::LaunchTemplate': 'lt',
};

/** Attributes that are EC2 ids, whatever the resource type (`!GetAtt VPC.DefaultSecurityGroup`, `SG.GroupId`). */
const EC2_ATTRIBUTE_ID_PREFIX: { [attribute: string]: string } = {
  GroupId: 'sg',
  DefaultSecurityGroup: 'sg',
  DefaultNetworkAcl: 'acl',
  VpcId: 'vpc',
  SubnetId: 'subnet',
};

/** What output values may depend on: the stack's name, account and region. */
export interface OutputValueContext {
  /** The stack Proton would create: `AWSProton-<name>-<suffix>`; placeholder ids are derived from it. */
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
}

/**
 * Each declared output's value as far as it can be known without deploying: literals and parameter defaults as
 * they are, pseudo parameters from the context, and for what only AWS could know (a resource's `Ref` or attribute,
 * an import) a stable fake value derived from the stack and logical id, so the same deployment always gets the same
 * values. Values are strings, as Proton's outputs are (`valueString`): lists are joined with commas, as
 * CloudFormation does for outputs.
 */
export function outputValues(template: CloudFormationTemplate, context: OutputValueContext): { [key: string]: string } {
  const resources = template.Resources ?? {};
  const parameters = template.Parameters ?? {};
  const conditions = template.Conditions ?? {};
  const fake = (what: string) => createHash('sha256').update(`${context.stackName}\0${what}`).digest('hex').slice(0, 12);
  const fakeHex = (what: string, length: number) => createHash('sha256').update(`${context.stackName}\0${what}`).digest('hex').slice(0, length);
  const stackId = `arn:aws:cloudformation:${context.region}:${context.account}:stack/${context.stackName}/${fake('stack')}`;
  const resolveContext: ResolveContext = {
    stackName: context.stackName,
    stackId,
    account: context.account,
    region: context.region,
    ref(logicalId, where) {
      if (Object.hasOwn(parameters, logicalId)) {
        const value = parameters[logicalId]?.Default;
        // Proton passes no parameters: a parameter without a default cannot deploy, so the placeholder says so.
        return value ?? `<${logicalId}: parameter without a default>`;
      }
      if (Object.hasOwn(resources, logicalId)) {
        const type = resources[logicalId]?.Type ?? '';
        const name = `${context.stackName}-${logicalId}-${fake(logicalId)}`;
        // Resource types whose Ref is an ARN or a URL, not a name or id (CloudFormation's "Return values" per type).
        if (REF_IS_ARN.has(type)) return fakeArn(type, name, context);
        if (type === 'AWS::SQS::Queue') return `https://sqs.${context.region}.amazonaws.com/${context.account}/${name}`;
        // EC2 resources' Ref is an id of a fixed shape (vpc-0123456789abcdef0): downstream templates check it.
        const prefix = EC2_ID_PREFIX[type];
        if (prefix) return `${prefix}-${fakeHex(logicalId, 17)}`;
        return name;
      }
      throw new TemplateError(`${where}: Ref to ${logicalId}, which is neither a parameter nor a resource of the template`);
    },
    getAtt(logicalId, attribute, where) {
      if (!Object.hasOwn(resources, logicalId)) {
        throw new TemplateError(`${where}: Fn::GetAtt on ${logicalId}, which is not a resource of the template`);
      }
      const attributePrefix = EC2_ATTRIBUTE_ID_PREFIX[attribute];
      if (attributePrefix) return `${attributePrefix}-${fakeHex(`${logicalId}.${attribute}`, 17)}`;
      if (/arn$/i.test(attribute)) {
        return fakeArn(resources[logicalId]?.Type ?? '', `${context.stackName}-${logicalId}-${fake(logicalId)}`, context);
      }
      return `${context.stackName}-${logicalId}-${attribute}-${fake(`${logicalId}.${attribute}`)}`;
    },
    importValue(exportName) {
      return `<import ${exportName}>`;
    },
    condition(name, where) {
      if (!Object.hasOwn(conditions, name)) {
        throw new TemplateError(`${where}: condition ${name} is not in the template's Conditions`);
      }
      return Boolean(resolveValue(conditions[name], resolveContext, `Conditions.${name}`));
    },
  };

  const values: { [key: string]: string } = {};
  for (const key of declaredOutputs(template)) {
    const value = template.Outputs![key]?.Value;
    let resolved: unknown;
    try {
      resolved = resolveValue(value, resolveContext, `Outputs.${key}.Value`);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      // A function proton-local does not evaluate (Fn::FindInMap, Fn::GetAZs...): a stable stand-in.
      resolved = `${context.stackName}-${key}-${fake(`output ${key}`)}`;
    }
    values[key] = asOutputString(resolved);
  }
  return values;
}

const REF_IS_ARN = new Set([
  'AWS::IAM::ManagedPolicy', 'AWS::SNS::Topic', 'AWS::ECS::TaskDefinition', 'AWS::ECS::Service', 'AWS::StepFunctions::StateMachine',
  'AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::ElasticLoadBalancingV2::TargetGroup', 'AWS::ElasticLoadBalancingV2::Listener',
]);

/** An ARN of the resource type's shape: IAM's are global (`arn:aws:iam::<account>:policy/<name>`), SNS's end in `:<name>`. */
function fakeArn(type: string, name: string, context: OutputValueContext): string {
  const [, service = 'unknown', resource = 'resource'] = type.split('::');
  const serviceName = service.toLowerCase();
  if (serviceName === 'iam') {
    const kind = resource === 'ManagedPolicy' ? 'policy' : resource.toLowerCase();
    return `arn:aws:iam::${context.account}:${kind}/${name}`;
  }
  if (serviceName === 'sns' || serviceName === 'sqs') {
    return `arn:aws:${serviceName}:${context.region}:${context.account}:${name}`;
  }
  return `arn:aws:${serviceName}:${context.region}:${context.account}:${resource.toLowerCase()}/${name}`;
}

function asOutputString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(asOutputString).join(',');
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function oneLine(message: string): string {
  // yaml's pretty errors add the offending line and a caret under it: the line is kept, joined by " | ".
  return message.split('\n').map(l => l.trim()).filter(l => l !== '' && !/^\^+$/.test(l)).join(' | ');
}

function describe(value: unknown): string {
  if (value === undefined || value === null) return 'an empty document';
  if (Array.isArray(value)) return 'a list';
  return `${typeof value} ${JSON.stringify(value)}`;
}
