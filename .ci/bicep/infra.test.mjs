// Settings of infra/ that must never regress. Each test reads the parsed Bicep, not a copy of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { bicepFiles, parse, syntaxErrors, resources, parameters, outputs, infraDir, repoRoot } from './bicep.mjs';

const file = (name) => parse(join(infraDir, name));
const only = (list, typeName) => {
  const found = list.filter((r) => r.typeName === typeName);
  assert.ok(found.length > 0, `no ${typeName} resource`);
  return found;
};
const one = (list, typeName) => {
  const found = only(list, typeName);
  assert.equal(found.length, 1, `expected one ${typeName}`);
  return found[0];
};

test('every Bicep file parses without errors', () => {
  const files = bicepFiles();
  assert.ok(files.length >= 6);
  for (const path of files) assert.deepEqual(syntaxErrors(parse(path)), [], path);
});

test('storage refuses shared keys, public blobs, plain HTTP and old TLS', () => {
  const account = one(resources(file('modules/storage.bicep')), 'Microsoft.Storage/storageAccounts');
  assert.equal(account.properties.get('properties.allowSharedKeyAccess'), 'false');
  assert.equal(account.properties.get('properties.allowBlobPublicAccess'), 'false');
  assert.equal(account.properties.get('properties.supportsHttpsTrafficOnly'), 'true');
  assert.equal(account.properties.get('properties.minimumTlsVersion'), "'TLS1_2'");
});

test('the queues and the ledger container are the ones the code uses', () => {
  const storage = file('modules/storage.bicep').text;
  const code = readFileSync(join(repoRoot, 'src/DbtRelay/Delivery/IRelayQueues.cs'), 'utf8');
  const queues = [...code.matchAll(/const string \w+ = "([^"]+)";/g)].map((m) => m[1]);
  assert.deepEqual(queues.sort(), ['dbt-deliveries', 'dbt-deliveries-failed', 'dbt-events']);
  for (const queue of queues) assert.match(storage, new RegExp(`'${queue}'`));
  const glue = readFileSync(join(repoRoot, 'src/DbtRelay.Functions/StorageGlue.cs'), 'utf8');
  const ledger = glue.match(/LedgerContainer = "([^"]+)"/)[1];
  assert.match(storage, new RegExp(`ledgerContainerName = '${ledger}'`));
});

test('no storage key or connection string is used anywhere', () => {
  for (const path of bicepFiles()) {
    const { text } = parse(path);
    assert.doesNotMatch(text, /listKeys\(|AccountKey=|primaryKey/i, path);
  }
});

test('Key Vault uses RBAC with soft delete and purge protection', () => {
  const vault = one(resources(file('modules/keyvault.bicep')), 'Microsoft.KeyVault/vaults');
  assert.equal(vault.properties.get('properties.enableRbacAuthorization'), 'true');
  assert.equal(vault.properties.get('properties.enableSoftDelete'), 'true');
  assert.equal(vault.properties.get('properties.enablePurgeProtection'), 'true');
  assert.equal(vault.properties.get('properties.accessPolicies'), undefined);
});

test('role assignments grant exactly the documented roles, named by guid, with a principal type', () => {
  const expected = {
    'modules/storage.bicep': ['b7e6dc6d-f1e8-4753-8033-0f276bb0955b', '974c5e8b-45b9-4653-ba55-5f855dd0fb88'],
    'modules/keyvault.bicep': ['4633458b-17de-408a-b874-0445c86b69e6', 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'],
    'modules/monitoring.bicep': ['3913510d-42f4-4e42-8a64-420c390055eb'],
  };
  for (const [name, roles] of Object.entries(expected)) {
    const parsed = file(name);
    for (const role of roles) assert.match(parsed.text, new RegExp(`'${role}'`), `${name} lacks ${role}`);
    for (const assignment of only(resources(parsed), 'Microsoft.Authorization/roleAssignments')) {
      assert.match(assignment.properties.get('name'), /^guid\(/);
      assert.ok(assignment.properties.get('properties.principalType'), `${assignment.symbol} lacks principalType`);
    }
  }
  // Table Data Contributor only if tables are used; they are not.
  assert.doesNotMatch(file('modules/storage.bicep').text, /0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3/);
});

test('the app runs .NET 10 isolated on Flex Consumption with an always-ready HTTP instance by default', () => {
  const app = file('modules/functionapp.bicep');
  const plan = one(resources(app), 'Microsoft.Web/serverfarms');
  assert.equal(plan.properties.get('sku.name'), "'FC1'");
  assert.equal(plan.properties.get('sku.tier'), "'FlexConsumption'");
  const site = one(resources(app), 'Microsoft.Web/sites');
  assert.equal(site.properties.get('properties.functionAppConfig.runtime.name'), "'dotnet-isolated'");
  assert.equal(site.properties.get('properties.functionAppConfig.runtime.version'), "'10.0'");
  assert.match(site.properties.get('properties.functionAppConfig.scaleAndConcurrency.alwaysReady'), /name: 'http'/);
  assert.equal(parameters(file('main.bicep')).get('alwaysReadyHttpInstances'), '1');
  assert.equal(JSON.parse(readFileSync(join(infraDir, 'main.parameters.json'), 'utf8')).parameters.alwaysReadyHttpInstances.value, 1);
  assert.equal(site.properties.get('properties.functionAppConfig.deployment.storage.authentication.type'), "'UserAssignedIdentity'");
});

test('the site is hardened: HTTPS only, TLS 1.2, no FTPS, no basic publishing credentials', () => {
  const app = file('modules/functionapp.bicep');
  const site = one(resources(app), 'Microsoft.Web/sites');
  assert.equal(site.properties.get('properties.httpsOnly'), 'true');
  assert.equal(site.properties.get('properties.siteConfig.minTlsVersion'), "'1.2'");
  assert.equal(site.properties.get('properties.siteConfig.ftpsState'), "'Disabled'");
  const policies = only(resources(app), 'Microsoft.Web/sites/basicPublishingCredentialsPolicies');
  assert.deepEqual(policies.map((p) => p.properties.get('name')).sort(), ["'ftp'", "'scm'"]);
  for (const policy of policies) assert.equal(policy.properties.get('properties.allow'), 'false');
});

test('app settings reach storage, Key Vault and Application Insights by identity, with no Flex-incompatible setting', () => {
  const settings = one(resources(file('modules/functionapp.bicep')), 'Microsoft.Web/sites/config');
  const keys = [...settings.properties.keys()].filter((k) => k.startsWith('properties.')).map((k) => k.slice('properties.'.length));
  for (const forbidden of ['FUNCTIONS_WORKER_RUNTIME', 'WEBSITE_RUN_FROM_PACKAGE', 'WEBSITE_CONTENTSHARE', 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING', 'AzureWebJobsStorage']) {
    assert.ok(!keys.includes(forbidden), `${forbidden} must not be set on Flex`);
  }
  assert.equal(settings.properties.get('properties.AzureWebJobsStorage__credential'), "'managedidentity'");
  for (const required of ['AzureWebJobsStorage__accountName', 'AzureWebJobsStorage__clientId', 'KeyVault__Uri', 'KeyVault__ClientId',
    'APPLICATIONINSIGHTS_CONNECTION_STRING', 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING']) {
    assert.ok(keys.includes(required), `${required} is missing`);
  }
  assert.match(settings.properties.get('properties.APPLICATIONINSIGHTS_AUTHENTICATION_STRING'), /Authorization=AAD/);
});

test('Application Insights is workspace-based with local auth disabled', () => {
  const insights = one(resources(file('modules/monitoring.bicep')), 'Microsoft.Insights/components');
  assert.equal(insights.properties.get('properties.DisableLocalAuth'), 'true');
  assert.ok(insights.properties.get('properties.WorkspaceResourceId'));
  for (const name of ['modules/functionapp.bicep', 'modules/keyvault.bicep']) {
    one(resources(file(name)), 'Microsoft.Insights/diagnosticSettings');
  }
});

test('names derive from uniqueString and carry azd tags; outputs give the webhook URL and no secret', () => {
  const main = file('main.bicep');
  assert.match(main.text, /uniqueString\(subscription\(\)\.id, environmentName, location\)/);
  assert.match(main.text, /'azd-env-name': environmentName/);
  assert.match(file('modules/functionapp.bicep').text, /'azd-service-name': 'api'/);
  const names = outputs(main);
  assert.ok(names.includes('DBT_WEBHOOK_URL'));
  for (const name of names) assert.doesNotMatch(name, /SECRET|KEY$|PASSWORD|CONNECTION/i);
});

test('main.parameters.json and azure.yaml agree with main.bicep and the repository', () => {
  const declared = parameters(file('main.bicep'));
  const given = Object.keys(JSON.parse(readFileSync(join(infraDir, 'main.parameters.json'), 'utf8')).parameters);
  for (const name of given) assert.ok(declared.has(name), `main.parameters.json sets unknown parameter ${name}`);
  for (const [name, defaultValue] of declared) {
    if (defaultValue === undefined) assert.ok(given.includes(name), `required parameter ${name} is not given`);
  }
  const azure = readFileSync(join(repoRoot, 'azure.yaml'), 'utf8');
  const project = azure.match(/project:\s*(\S+)/)[1];
  assert.ok(existsSync(join(repoRoot, project, 'DbtRelay.Functions.csproj')));
  assert.match(azure, /host:\s*function/);
  assert.match(azure, /path:\s*infra/);
});
