// DbtRelay on Azure: Functions Flex Consumption (.NET 10 isolated), Storage (queues, ledger, deployment package),
// Key Vault (RBAC) and Application Insights, all reached with one user-assigned managed identity.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names and tags derive from it.')
param environmentName string

@minLength(1)
@description('Azure region for every resource. Flex Consumption must be offered there: `az functionapp list-flexconsumption-locations`.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the person or pipeline deploying; gets Key Vault Secrets Officer to create the secrets. Empty: none.')
param deployerPrincipalId string = ''

@description('Type of the deployer principal.')
@allowed([ 'User', 'ServicePrincipal', 'Group' ])
param deployerPrincipalType string = 'User'

@description('Flex Consumption instance memory (MB).')
@allowed([ 512, 2048, 4096 ])
param instanceMemoryMB int = 2048

@description('Upper bound on instances the app scales out to (Flex Consumption accepts 40 to 1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

// A cold start of a .NET app on Flex can take longer than the 10 s dbt Cloud waits before it counts a delivery as
// failed. One always-ready instance for the HTTP group keeps intake warm; it is billed while idle (see README,
// "Cost of always-ready"). Set 0 to save that cost and rely on dbt's retries instead.
@description('Always-ready instances for the HTTP trigger group (intake). Default 1: see the comment above.')
@minValue(0)
@maxValue(10)
param alwaysReadyHttpInstances int = 1

// The queue-triggered functions scale from zero by default: the first event after an idle period waits for the
// platform to notice the queue and start an instance (seconds). Always-ready instances for both pipeline functions
// keep POST → downstream call in the sub-second range measured locally, at the always-ready price for each.
@description('Always-ready instances for each of RouteDbtEvent and DeliverSync. Default 0: scale from zero.')
@minValue(0)
@maxValue(10)
param alwaysReadyPipelineInstances int = 0

// Purge protection keeps a deleted vault (and its secrets) unpurgeable for the retention period: right for
// production, but then `azd down` + `azd up` of the same environment must recover the vault (below) instead of
// creating it. Off by default so that a trial environment can be torn down with `azd down --purge`.
@description('Key Vault purge protection (cannot be turned off again once on). Turn on for production.')
param keyVaultPurgeProtection bool = false

@description('Recover the soft-deleted vault of a previous `azd down` of this environment instead of creating it.')
param keyVaultRecover bool = false

@description('E-mail address alerted when a delivery is dead-lettered or invalid signatures burst. Empty: alert rules without a recipient.')
param alertEmailAddress string = ''

@description('Invalid webhook signatures within 5 minutes that raise the alert.')
@minValue(1)
param invalidSignatureAlertThreshold int = 20

// Off by default: the app then reaches storage and Key Vault over their public endpoints, by identity only (shared
// keys off, RBAC). On: a virtual network with private endpoints, and both refuse public traffic except from
// operatorIpRanges (see README, "Private networking").
@description('Put storage and Key Vault behind private endpoints in a virtual network the app joins.')
param privateNetworking bool = false

@description('With privateNetworking: public IP ranges (CIDR, e.g. your office or CI runner) still allowed to storage and Key Vault.')
param operatorIpRanges array = []

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

// Writes the deployment package; the app's own identity cannot (storage.bicep).
module deployIdentity 'modules/identity.bicep' = {
  name: 'deploy-identity'
  scope: rg
  params: {
    name: 'id-deploy-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    resourceToken: resourceToken
    location: location
    tags: tags
    identityPrincipalId: identity.outputs.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    identityPrincipalId: identity.outputs.principalId
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
    deployIdentityPrincipalId: deployIdentity.outputs.principalId
    privateNetworking: privateNetworking
    operatorIpRanges: operatorIpRanges
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    identityPrincipalId: identity.outputs.principalId
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    purgeProtection: keyVaultPurgeProtection
    recoverSoftDeleted: keyVaultRecover
    privateNetworking: privateNetworking
    operatorIpRanges: operatorIpRanges
  }
}

module network 'modules/network.bicep' = if (privateNetworking) {
  name: 'network'
  scope: rg
  params: {
    resourceToken: resourceToken
    location: location
    tags: tags
    storageAccountId: storage.outputs.id
    keyVaultId: keyVault.outputs.id
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    resourceToken: resourceToken
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    deployIdentityId: deployIdentity.outputs.id
    appSubnetId: privateNetworking ? network!.outputs.appSubnetId : ''
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    keyVaultUri: keyVault.outputs.uri
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    alwaysReadyPipelineInstances: alwaysReadyPipelineInstances
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    resourceToken: resourceToken
    location: location
    tags: tags
    appInsightsId: monitoring.outputs.appInsightsId
    alertEmailAddress: alertEmailAddress
    invalidSignatureThreshold: invalidSignatureAlertThreshold
  }
}

// Outputs carry names and URLs only, never a secret.
output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_URI string = keyVault.outputs.uri
// Power BI: add this identity to the workspace of each refreshed semantic model (README, "Power BI").
output AZURE_APP_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output AZURE_APP_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output DBT_WEBHOOK_URL string = 'https://${functionApp.outputs.defaultHostName}/api/dbt/webhook'
