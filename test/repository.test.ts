import { App, RemovalPolicy, Stack, Tags, Token, aws_kms as kms } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Repository, RepositoryProps, RepositoryProvider } from '../src';

const CONNECTION = 'arn:aws:codestar-connections:us-east-1:111122223333:connection/0f8e2d4c-1b3a-4c5d-9e7f-a1b2c3d4e5f6';

function setup() {
  return new Stack(new App(), 'Git', { env: { account: '111122223333', region: 'us-east-1' } });
}

function repository(props: Partial<RepositoryProps> = {}) {
  const stack = setup();
  const repo = new Repository(stack, 'Templates', {
    provider: RepositoryProvider.GITHUB, repositoryName: 'acme/proton-templates', connectionArn: CONNECTION, ...props,
  });
  return { stack, repo };
}

const resource = (stack: Stack) => Object.values(Template.fromStack(stack).findResources('Custom::ProtonRepository'))[0];

describe('Repository', () => {
  test('links the repository through the connection, with its key and tags; the ARN is an attribute', () => {
    const { stack, repo } = repository();
    const key = kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    const withKey = new Repository(stack, 'Other', {
      provider: RepositoryProvider.BITBUCKET, repositoryName: 'acme/ops', connectionArn: CONNECTION, encryptionKey: key,
    });
    Tags.of(repo).add('team', 'platform');
    const resources = Template.fromStack(stack).findResources('Custom::ProtonRepository');
    expect(Object.values(resources).map((r: any) => r.Properties)).toEqual([
      {
        ServiceToken: expect.anything(),
        Provider: 'GITHUB',
        RepositoryName: 'acme/proton-templates',
        ConnectionArn: CONNECTION,
        Tags: JSON.stringify([{ key: 'team', value: 'platform' }]),
      },
      {
        ServiceToken: expect.anything(),
        Provider: 'BITBUCKET',
        RepositoryName: 'acme/ops',
        ConnectionArn: CONNECTION,
        EncryptionKey: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
    ]);
    expect(repo.repositoryName).toBe('acme/proton-templates');
    expect(stack.resolve(withKey.repositoryArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Other/), 'Arn'] });
    expect(resource(stack).DeletionPolicy).toBe('Delete');
  });

  test('adoptExisting retains the link by default; removalPolicy says otherwise', () => {
    expect(resource(repository({ adoptExisting: true }).stack)).toMatchObject({ DeletionPolicy: 'Retain', Properties: { AdoptExisting: 'true' } });
    expect(resource(repository({ adoptExisting: true, removalPolicy: RemovalPolicy.DESTROY }).stack).DeletionPolicy).toBe('Delete');
  });

  test('the handler may manage that link and pass the connection', () => {
    const { stack } = repository();
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .flatMap((policy: any) => policy.Properties.PolicyDocument.Statement);
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({
        Action: expect.arrayContaining(['proton:CreateRepository', 'proton:DeleteRepository', 'proton:GetRepository']),
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:111122223333:repository/github:acme/proton-templates']] },
      }),
      expect.objectContaining({ Action: ['codestar-connections:PassConnection', 'codeconnections:PassConnection'], Resource: CONNECTION }),
    ]));
  });

  test('fromRepositoryAttributes: provider, name and the link ARN', () => {
    const stack = setup();
    const imported = Repository.fromRepositoryAttributes(stack, 'Imported', { repositoryProvider: RepositoryProvider.GITHUB_ENTERPRISE, repositoryName: 'acme/x' });
    expect(imported.repositoryProvider).toBe('GITHUB_ENTERPRISE');
    expect(stack.resolve(imported.repositoryArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:111122223333:repository/github_enterprise:acme/x']],
    });
  });

  describe('rejects', () => {
    test('a repositoryName that is not owner/repository', () => {
      expect(() => repository({ repositoryName: 'proton-templates' })).toThrow(
        'Git/Templates: repositoryName "proton-templates" must be "owner/repository" (at most 100 characters)');
    });

    test('a repositoryName over 100 characters', () => {
      const name = `acme/${'x'.repeat(96)}`;
      expect(() => repository({ repositoryName: name })).toThrow(`Git/Templates: repositoryName "${name}" must be "owner/repository" (at most 100 characters)`);
    });

    test('a repositoryName that is a token', () => {
      expect(() => repository({ repositoryName: Token.asString({ Ref: 'Name' }) })).toThrow(
        'Git/Templates: repositoryName must be a literal "owner/repository", not a token (sync configs name it at synth)');
    });

    test('an imported repositoryName that is not owner/repository', () => {
      expect(() => Repository.fromRepositoryAttributes(setup(), 'Imported', { repositoryProvider: RepositoryProvider.GITHUB, repositoryName: 'x' }))
        .toThrow('Git/Imported: repositoryName "x" must be "owner/repository"');
    });

    test('a connectionArn that is not a CodeStar connection ARN', () => {
      expect(() => repository({ connectionArn: 'arn:aws:iam::111122223333:role/x' })).toThrow(
        'Git/Templates: connectionArn "arn:aws:iam::111122223333:role/x" is not a CodeStar connection ARN '
        + '(arn:<partition>:codestar-connections|codeconnections:<region>:<account>:connection/<id>, at most 200 characters)');
    });

    test('a second link to the same repository in the account and region', () => {
      const { stack } = repository();
      expect(() => new Repository(stack, 'Again', { provider: RepositoryProvider.GITHUB, repositoryName: 'acme/proton-templates', connectionArn: CONNECTION }))
        .toThrow(/^Git\/Again: repositoryName "GITHUB:acme\/proton-templates" is already used by Git\/Templates \(repository links are named per account/);
    });
  });
});
