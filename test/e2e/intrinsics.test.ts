/** The intrinsic functions the local deploy engine resolves, and its errors for those it does not. */
import { ResolveContext, evaluateCondition, referencedNames, resolveValue } from '../../src/local/deploy/intrinsics';

const context: ResolveContext = {
  stackName: 'Stack',
  stackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/Stack/id',
  account: '111122223333',
  region: 'eu-west-1',
  ref: (name) => ({ Bucket: 'my-bucket', Env: 'Prod' } as any)[name] ?? (() => { throw new Error(`unknown ${name}`); })(),
  getAtt: (id, attribute) => `${id}/${attribute}`,
  importValue: (name) => `imported:${name}`,
  condition: (name, where) => evaluateCondition({ IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'Prod'] } }[name], context, where),
};
const resolve = (value: unknown) => resolveValue(value, context, 'Resources.R.Properties');

test('Ref, pseudo parameters, Fn::GetAtt in both forms, Fn::ImportValue', () => {
  expect(resolve({ a: { Ref: 'Bucket' }, b: { Ref: 'AWS::Region' }, c: { Ref: 'AWS::AccountId' }, d: { Ref: 'AWS::Partition' } }))
    .toEqual({ a: 'my-bucket', b: 'eu-west-1', c: '111122223333', d: 'aws' });
  expect(resolve([{ 'Fn::GetAtt': ['Fn', 'Arn'] }, { 'Fn::GetAtt': 'Thing.Outputs.Key' }])).toEqual(['Fn/Arn', 'Thing/Outputs.Key']);
  expect(resolve({ 'Fn::ImportValue': { 'Fn::Join': ['-', ['a', 'b']] } })).toBe('imported:a-b');
});

test('Fn::Join, Fn::Sub (variables, attributes, literals), Fn::Select, Fn::Split', () => {
  expect(resolve({ 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, 's3', '', '', { Ref: 'Bucket' }]] })).toBe('arn:aws:s3:::my-bucket');
  expect(resolve({ 'Fn::Sub': 'cdk-${AWS::AccountId}-${AWS::Region}/${Bucket}/${Fn.Arn}/${!Literal}' }))
    .toBe('cdk-111122223333-eu-west-1/my-bucket/Fn/Arn/${Literal}');
  expect(resolve({ 'Fn::Sub': ['${Name}-${Bucket}', { Name: { 'Fn::Select': [1, ['x', 'y']] } }] })).toBe('y-my-bucket');
  expect(resolve({ 'Fn::Select': [2, { 'Fn::Split': ['/', 'a/b/c'] }] })).toBe('c');
});

test('conditions: Fn::If, AWS::NoValue removes the property, Fn::And / Or / Not', () => {
  expect(resolve({ keep: { 'Fn::If': ['IsProd', 'big', 'small'] }, drop: { 'Fn::If': ['IsProd', { Ref: 'AWS::NoValue' }, 'x'] } }))
    .toEqual({ keep: 'big' });
  expect(evaluateCondition({ 'Fn::And': [{ Condition: 'IsProd' }, { 'Fn::Not': [{ 'Fn::Or': [false, { 'Fn::Equals': ['a', 'b'] }] }] }] }, context, 'c'))
    .toBe(true);
});

test('an unsupported intrinsic, or a malformed one, is an error naming it and where it is', () => {
  expect(() => resolve({ Zones: { 'Fn::GetAZs': '' } })).toThrow(
    /^Resources\.R\.Properties\.Zones: the intrinsic function Fn::GetAZs is not supported by proton-local deploy \(supported: Ref, Fn::GetAtt/);
  expect(() => resolve({ 'Fn::Select': [5, ['a']] })).toThrow('Resources.R.Properties (Fn::Select): index 5 is out of range of ["a"]');
  expect(() => resolve({ 'Fn::GetAtt': ['OnlyOne'] })).toThrow(/Fn::GetAtt needs \[logicalId, attribute\]/);
});

test('references: Ref, Fn::GetAtt and Fn::Sub names, without pseudo parameters, Sub variables or literals', () => {
  expect([...referencedNames({
    a: { Ref: 'A' },
    b: { 'Fn::GetAtt': ['B', 'Arn'] },
    c: { 'Fn::Sub': ['${C}-${D.Arn}-${AWS::Region}-${!E}-${V}', { V: { Ref: 'F' } }] },
    d: { Ref: 'AWS::StackName' },
  })].sort()).toEqual(['A', 'B', 'C', 'D', 'F']);
});
