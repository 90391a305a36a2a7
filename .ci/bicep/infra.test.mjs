// Settings of infra/ that must never regress, asserted on the ARM JSON the real Bicep CLI compiled (not on text).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { main, module, moduleArgs, resources, one, assignedRoles, infraDir, repoRoot } from './arm.mjs';

const storage = module('storage');
const keyVault = module('keyvault');
const functionApp = module('functionapp');
const monitoring = module('monitoring');
const parametersFile = JSON.parse(readFileSync(join(infraDir, 'main.parameters.json'), 'utf8')).parameters;

test('storage refuses shared keys, public blobs, plain HTTP and old TLS', () => {
  const { properties } = one(storage, 'Microsoft.Storage/storageAccounts');
  assert.equal(properties.allowSharedKeyAccess, false);
  assert.equal(properties.allowBlobPublicAccess, false);
  assert.equal(properties.supportsHttpsTrafficOnly, true);
  assert.equal(properties.minimumTlsVersion, 'TLS1_2');
});

test('the queues and the ledger container are the ones the code uses', () => {
  const code = readFileSync(join(repoRoot, 'src/DbtRelay/Delivery/QueueNames.cs'), 'utf8');
  const queues = [...code.matchAll(/const string \w+ = "([^"]+)";/g)].map((m) => m[1]);
  assert.deepEqual(queues.sort(), ['dbt-deliveries', 'dbt-deliveries-failed', 'dbt-events']);
  assert.deepEqual([...storage.variables.queueNames].sort(), queues);
  assert.match(resources(storage, 'Microsoft.Storage/storageAccounts/queueServices/queues')[0].name, /queueNames/);
  const clients = readFileSync(join(repoRoot, 'src/DbtRelay.AzureStorage/StorageClients.cs'), 'utf8');
  assert.equal(storage.variables.ledgerContainerName, clients.match(/LedgerContainer = "([^"]+)"/)[1]);
});

test('ledger blobs are deleted after 30 days, like the documented retention', () => {
  const policy = one(storage, 'Microsoft.Storage/storageAccounts/managementPolicies');
  const rule = policy.properties.policy.rules[0];
  assert.equal(rule.definition.actions.baseBlob.delete.daysAfterModificationGreaterThan, 30);
});

test('no storage key or connection string is used anywhere', () => {
  assert.doesNotMatch(JSON.stringify(main), /listKeys\(|AccountKey=|primaryKey/i);
});

test('Key Vault uses RBAC and soft delete; purge protection is a parameter, off by default, never an explicit false', () => {
  const vault = one(keyVault, 'Microsoft.KeyVault/vaults');
  assert.equal(vault.properties.enableRbacAuthorization, true);
  assert.equal(vault.properties.enableSoftDelete, true);
  assert.equal(vault.properties.accessPolicies, undefined);
  assert.equal(vault.properties.enablePurgeProtection, "[if(parameters('purgeProtection'), true(), null())]");
  assert.equal(main.parameters.keyVaultPurgeProtection.defaultValue, false);
  assert.equal(moduleArgs('keyvault').purgeProtection, "[parameters('keyVaultPurgeProtection')]");
  assert.equal(parametersFile.keyVaultPurgeProtection.value, '${AZURE_KEY_VAULT_PURGE_PROTECTION=false}');
});

test('a vault soft-deleted by azd down can be recovered by the next provision of the same environment', () => {
  const vault = one(keyVault, 'Microsoft.KeyVault/vaults');
  assert.equal(vault.properties.createMode, "[if(parameters('recoverSoftDeleted'), 'recover', 'default')]");
  assert.equal(main.parameters.keyVaultRecover.defaultValue, false);
  assert.equal(moduleArgs('keyvault').recoverSoftDeleted, "[parameters('keyVaultRecover')]");
  assert.equal(parametersFile.keyVaultRecover.value, '${AZURE_KEY_VAULT_RECOVER=false}');
});

test('role assignments grant exactly the documented roles, named by guid, with a principal type', () => {
  const expected = {
    storage: ['974c5e8b-45b9-4653-ba55-5f855dd0fb88', 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'],
    keyvault: ['4633458b-17de-408a-b874-0445c86b69e6', 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'],
    monitoring: ['3913510d-42f4-4e42-8a64-420c390055eb'],
  };
  for (const [name, roles] of Object.entries(expected)) {
    const template = module(name);
    assert.deepEqual([...assignedRoles(template)].sort(), roles, name);
    for (const assignment of resources(template, 'Microsoft.Authorization/roleAssignments')) {
      assert.match(assignment.name, /^\[guid\(/);
      assert.ok(assignment.properties.principalType, `${name}: an assignment lacks principalType`);
    }
  }
});

test('the deployer can read and move queue messages (shared keys are off), only when a deployer is given', () => {
  const deployer = resources(storage, 'Microsoft.Authorization/roleAssignments').filter((a) => a.properties.principalId === "[parameters('deployerPrincipalId')]");
  assert.equal(deployer.length, 1);
  assert.equal(deployer[0].condition, "[not(empty(parameters('deployerPrincipalId')))]");
  assert.match(deployer[0].properties.roleDefinitionId, /queueDataContributor/);
  assert.equal(moduleArgs('storage').deployerPrincipalId, "[parameters('deployerPrincipalId')]");
});

test("the app's identity cannot write its own deployment package; a separate deploy identity writes only that", () => {
  const assignments = resources(storage, 'Microsoft.Authorization/roleAssignments');
  const app = assignments.filter((a) => a.properties.principalId === "[parameters('identityPrincipalId')]");
  const blob = app.find((a) => /blobDataOwner/.test(a.properties.roleDefinitionId));
  assert.equal(blob.properties.conditionVersion, '2.0');
  assert.equal(blob.properties.condition, "[variables('noPackageWrites')]");
  const condition = storage.variables.noPackageWrites
    .replace(/^\[format\('/, '').replace(/', variables\('deploymentContainerName'\)\)\]$/, '')
    .replaceAll("''", "'").replaceAll('{{', '{').replaceAll('}}', '}')
    .replace('{0}', storage.variables.deploymentContainerName);
  for (const action of ['blobs/write', 'blobs/add/action', 'blobs/delete']) {
    assert.ok(condition.includes(`!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/${action}'})`), action);
  }
  assert.match(condition, /\) OR \(@Resource\[Microsoft\.Storage\/storageAccounts\/blobServices\/containers:name\] StringNotEquals 'app-package'\)$/);
  assert.equal(storage.variables.deploymentContainerName, 'app-package');

  const deploy = assignments.filter((a) => a.properties.principalId === "[parameters('deployIdentityPrincipalId')]");
  assert.equal(deploy.length, 1);
  assert.match(deploy[0].properties.roleDefinitionId, /blobDataContributor/);
  assert.match(deploy[0].scope, /blobServices\/containers', parameters\('name'\), 'default', variables\('deploymentContainerName'\)\)\]$/);
  assert.match(moduleArgs('storage').deployIdentityPrincipalId, /'Microsoft\.Resources\/deployments', 'deploy-identity'\).*\.outputs\.principalId\.value\]$/);
  assert.match(moduleArgs('functionapp').deployIdentityId, /'Microsoft\.Resources\/deployments', 'deploy-identity'\).*\.outputs\.id\.value\]$/);

  const site = one(functionApp, 'Microsoft.Web/sites');
  assert.equal(site.properties.functionAppConfig.deployment.storage.authentication.userAssignedIdentityResourceId, "[parameters('deployIdentityId')]");
  // The app authenticates as its own identity everywhere (the deploy identity is on the site only for the platform).
  const settings = one(functionApp, 'Microsoft.Web/sites/config').properties;
  for (const name of ['AzureWebJobsStorage__clientId', 'KeyVault__ClientId']) assert.equal(settings[name], "[parameters('identityClientId')]");
});

test('private networking is off by default; on, storage and the vault deny public traffic but for operator ranges', () => {
  assert.equal(main.parameters.privateNetworking.defaultValue, false);
  assert.equal(parametersFile.privateNetworking.value, '${DBT_RELAY_PRIVATE_NETWORKING=false}');
  assert.deepEqual(main.parameters.operatorIpRanges.defaultValue, []);
  for (const [template, type] of [[storage, 'Microsoft.Storage/storageAccounts'], [keyVault, 'Microsoft.KeyVault/vaults']]) {
    const acls = one(template, type).properties.networkAcls;
    assert.match(acls, /^\[if\(parameters\('privateNetworking'\), createObject\('defaultAction', 'Deny', 'bypass', 'None', 'ipRules', variables\('operatorIpRules'\)\)/, type);
    assert.match(template.variables.operatorIpRules, /map\(parameters\('operatorIpRanges'\)/);
  }
  const network = main.resources.find((r) => r.name === 'network');
  assert.equal(network.condition, "[parameters('privateNetworking')]");
  const site = one(functionApp, 'Microsoft.Web/sites');
  assert.equal(site.properties.virtualNetworkSubnetId, "[if(empty(parameters('appSubnetId')), null(), parameters('appSubnetId'))]");
  const subnetArg = main.resources.find((r) => r.name === 'functionapp').properties.parameters.appSubnetId;
  assert.match(subnetArg, /^\[if\(parameters\('privateNetworking'\), createObject\('value', reference\(.*'network'\).*\.outputs\.appSubnetId\.value\), createObject\('value', ''\)\)\]$/);
});

test('the private network reaches blobs, queues and the vault through endpoints with their DNS zones; the app subnet is Flex-delegated', () => {
  const network = module('network');
  const endpoints = network.variables.endpoints;
  assert.deepEqual(endpoints.map((e) => e.name), ['blob', 'queue', 'vault']);
  const vnet = one(network, 'Microsoft.Network/virtualNetworks');
  const [app, pe] = vnet.properties.subnets;
  assert.equal(app.properties.delegations[0].properties.serviceName, 'Microsoft.App/environments');
  assert.equal(pe.properties.privateEndpointNetworkPolicies, 'Disabled');
  const endpoint = one(network, 'Microsoft.Network/privateEndpoints');
  assert.equal(endpoint.copy.count, "[length(variables('endpoints'))]");
  assert.match(JSON.stringify(endpoint.properties.privateLinkServiceConnections), /groupIds.*endpoints'\)\[copyIndex\(\)\]\.name/);
  assert.equal(one(network, 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups').copy.count, "[length(variables('endpoints'))]");
  assert.equal(one(network, 'Microsoft.Network/privateDnsZones/virtualNetworkLinks').copy.count, "[length(variables('endpoints'))]");
  assert.match(endpoints[0].zone, /privatelink\.blob\./);
  assert.match(endpoints[1].zone, /privatelink\.queue\./);
  assert.equal(endpoints[2].zone, 'privatelink.vaultcore.azure.net');
});

test('the app runs .NET 10 isolated on Flex Consumption with an always-ready HTTP instance by default', () => {
  const plan = one(functionApp, 'Microsoft.Web/serverfarms');
  assert.deepEqual([plan.sku.name, plan.sku.tier], ['FC1', 'FlexConsumption']);
  const site = one(functionApp, 'Microsoft.Web/sites');
  const config = site.properties.functionAppConfig;
  assert.deepEqual(config.runtime, { name: 'dotnet-isolated', version: '10.0' });
  assert.match(config.scaleAndConcurrency.alwaysReady, /createObject\('name', 'http'/);
  assert.equal(main.parameters.alwaysReadyHttpInstances.defaultValue, 1);
  assert.equal(parametersFile.alwaysReadyHttpInstances.value, 1);
  assert.equal(config.deployment.storage.authentication.type, 'UserAssignedIdentity');
});

test('always-ready pipeline instances name the queue functions the app has, off by default', () => {
  const config = one(functionApp, 'Microsoft.Web/sites').properties.functionAppConfig;
  const code = readFileSync(join(repoRoot, 'src/DbtRelay.Functions/PipelineFunctions.cs'), 'utf8');
  const functions = [...code.matchAll(/\[Function\("([^"]+)"\)\]/g)].map((m) => m[1]).sort();
  assert.deepEqual(functions, ['DeliverSync', 'RouteDbtEvent']);
  for (const name of functions) assert.match(config.scaleAndConcurrency.alwaysReady, new RegExp(`'function:${name}'`));
  assert.equal(main.parameters.alwaysReadyPipelineInstances.defaultValue, 0);
  assert.equal(parametersFile.alwaysReadyPipelineInstances.value, '${DBT_RELAY_ALWAYS_READY_PIPELINE=0}');
});

test('scale-out and location follow Flex Consumption: at least 40 instances, an azd location picker', () => {
  const max = main.parameters.maximumInstanceCount;
  assert.deepEqual([max.minValue, max.maxValue], [40, 1000]);
  assert.ok(parametersFile.maximumInstanceCount.value >= 40);
  assert.deepEqual(main.parameters.location.metadata.azd, { type: 'location' });
});

test('the site is hardened: HTTPS only, TLS 1.2, no FTPS, no basic publishing credentials', () => {
  const site = one(functionApp, 'Microsoft.Web/sites');
  assert.equal(site.properties.httpsOnly, true);
  assert.equal(site.properties.siteConfig.minTlsVersion, '1.2');
  assert.equal(site.properties.siteConfig.ftpsState, 'Disabled');
  const policies = resources(functionApp, 'Microsoft.Web/sites/basicPublishingCredentialsPolicies');
  assert.deepEqual(policies.map((p) => p.name.match(/'(ftp|scm)'\)\]$/)?.[1]).sort(), ['ftp', 'scm']);
  for (const policy of policies) assert.equal(policy.properties.allow, false);
});

test('app settings reach storage, Key Vault and Application Insights by identity, with no Flex-incompatible setting', () => {
  const settings = one(functionApp, 'Microsoft.Web/sites/config').properties;
  for (const forbidden of ['FUNCTIONS_WORKER_RUNTIME', 'WEBSITE_RUN_FROM_PACKAGE', 'WEBSITE_CONTENTSHARE', 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING', 'AzureWebJobsStorage']) {
    assert.ok(!(forbidden in settings), `${forbidden} must not be set on Flex`);
  }
  assert.equal(settings.AzureWebJobsStorage__credential, 'managedidentity');
  for (const required of ['AzureWebJobsStorage__accountName', 'AzureWebJobsStorage__clientId', 'KeyVault__Uri', 'KeyVault__ClientId',
    'APPLICATIONINSIGHTS_CONNECTION_STRING', 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING']) {
    assert.ok(required in settings, `${required} is missing`);
  }
  assert.match(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING, /Authorization=AAD/);
});

test('Application Insights is workspace-based with local auth disabled; app and vault send diagnostics', () => {
  const insights = one(monitoring, 'Microsoft.Insights/components');
  assert.equal(insights.properties.DisableLocalAuth, true);
  assert.ok(insights.properties.WorkspaceResourceId);
  one(functionApp, 'Microsoft.Insights/diagnosticSettings');
  one(keyVault, 'Microsoft.Insights/diagnosticSettings');
});

test('names derive from uniqueString and carry azd tags; outputs give the webhook URL and no secret', () => {
  assert.equal(main.variables.resourceToken, "[toLower(uniqueString(subscription().id, parameters('environmentName'), parameters('location')))]");
  assert.match(JSON.stringify(main.variables.tags), /azd-env-name/);
  assert.match(one(functionApp, 'Microsoft.Web/sites').tags, /'azd-service-name', 'api'/);
  const names = Object.keys(main.outputs);
  assert.ok(names.includes('DBT_WEBHOOK_URL'));
  // What a Power BI admin needs to add the app's identity to a workspace (README, "Power BI").
  assert.match(main.outputs.AZURE_APP_IDENTITY_PRINCIPAL_ID.value, /'identity'.*\.outputs\.principalId\.value/);
  assert.match(main.outputs.AZURE_APP_IDENTITY_CLIENT_ID.value, /'identity'.*\.outputs\.clientId\.value/);
  for (const name of names) assert.doesNotMatch(name, /SECRET|KEY$|PASSWORD|CONNECTION/i);
});

test('main.parameters.json and azure.yaml agree with main.bicep and the repository', () => {
  for (const name of Object.keys(parametersFile)) assert.ok(name in main.parameters, `main.parameters.json sets unknown parameter ${name}`);
  for (const [name, declared] of Object.entries(main.parameters)) {
    if (!('defaultValue' in declared)) assert.ok(name in parametersFile, `required parameter ${name} is not given`);
  }
  const azure = readFileSync(join(repoRoot, 'azure.yaml'), 'utf8');
  const project = azure.match(/project:\s*(\S+)/)[1];
  assert.ok(existsSync(join(repoRoot, project, 'DbtRelay.Functions.csproj')));
  assert.match(azure, /host:\s*function/);
  assert.match(azure, /path:\s*infra/);
});

test('a dead-lettered delivery and a burst of invalid signatures alert, by the counters the app exports', () => {
  const alerts = module('alerts');
  const rules = resources(alerts, 'Microsoft.Insights/scheduledQueryRules');
  assert.equal(rules.length, 4);
  const queries = rules.map((r) => r.properties.criteria.allOf[0].query);
  // The metric names and tags are the ones the library's Meter records (RelayTelemetry.cs).
  const telemetry = readFileSync(join(repoRoot, 'src/DbtRelay/Telemetry/RelayTelemetry.cs'), 'utf8');
  for (const name of ['dbtrelay.deliveries', 'dbtrelay.events.rejected', 'dbtrelay.downstream.runs', 'dbtrelay.target.pauses']) assert.ok(telemetry.includes(`"${name}"`), name);
  const deadLetter = rules.find((r) => queries[rules.indexOf(r)].includes('"dbtrelay.deliveries"'));
  assert.match(deadLetter.properties.criteria.allOf[0].query, /outcome\) == "dead_lettered"/);
  assert.equal(deadLetter.properties.criteria.allOf[0].threshold, 0);
  assert.equal(deadLetter.properties.criteria.allOf[0].operator, 'GreaterThan');
  assert.ok(queries.some((q) => q.includes('"dbtrelay.events.rejected"') && q.includes('"invalid_signature"')));
  // Every followed run that did not succeed, by target and result, from the counter RunFollower records once per run.
  const downstream = rules.find((r) => r.properties.criteria.allOf[0].query.includes('"dbtrelay.downstream.runs"'));
  assert.match(downstream.properties.criteria.allOf[0].query, /tostring\(customDimensions\.result\) != "succeeded"/);
  assert.deepEqual(downstream.properties.criteria.allOf[0].dimensions.map((d) => d.name), ['target', 'result']);
  assert.equal(downstream.properties.criteria.allOf[0].threshold, 0);
  const follower = readFileSync(join(repoRoot, 'src/DbtRelay/Delivery/RunFollower.cs'), 'utf8');
  assert.match(follower, /\{ "result", run\.State\.Replace\(' ', '_'\) \}/);
  assert.ok(queries.some((q) => q.includes('"dbtrelay.target.pauses"')), 'a paused target alerts');
  for (const rule of rules) {
    assert.deepEqual(rule.properties.scopes, ["[parameters('appInsightsId')]"]);
    assert.equal(rule.properties.evaluationFrequency, 'PT5M');
  }
  // The e-mail address is a parameter (azd env DBT_RELAY_ALERT_EMAIL); without one no action group is created.
  const group = one(alerts, 'Microsoft.Insights/actionGroups');
  assert.equal(group.condition, "[not(empty(parameters('alertEmailAddress')))]");
  assert.equal(group.properties.emailReceivers[0].emailAddress, "[parameters('alertEmailAddress')]");
  assert.equal(main.parameters.alertEmailAddress.defaultValue, '');
  assert.equal(parametersFile.alertEmailAddress.value, '${DBT_RELAY_ALERT_EMAIL=}');
});
