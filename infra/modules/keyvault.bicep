// Secrets (dbt webhook secrets, API tokens): RBAC authorization and soft delete; purge protection when asked (on
// for production). The app's identity reads them (Key Vault Secrets User); the deployer may write them (Key Vault
// Secrets Officer).
param name string
param location string
param tags object
param identityPrincipalId string
param deployerPrincipalId string
param deployerPrincipalType string
param logAnalyticsWorkspaceId string
param purgeProtection bool
param recoverSoftDeleted bool
@description('Refuse public traffic: the app reads secrets through a private endpoint (network.bicep).')
param privateNetworking bool
@description('Public IP ranges (CIDR) still let in when privateNetworking is on: the operators storing secrets.')
param operatorIpRanges array

var secretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var secretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

var operatorIpRules = map(operatorIpRanges, range => { value: range })

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // Key Vault refuses an explicit false once set, and false is the default: leave it out unless it is on.
    enablePurgeProtection: purgeProtection ? true : null
    // A vault deleted by `azd down` keeps its name for the retention period; recovering it brings its secrets back.
    createMode: recoverSoftDeleted ? 'recover' : 'default'
    publicNetworkAccess: 'Enabled'
    networkAcls: privateNetworking ? {
      defaultAction: 'Deny'
      bypass: 'None'
      ipRules: operatorIpRules
    } : {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource appReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identityPrincipalId, secretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUser)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource deployerWritesSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, secretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsOfficer)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'vault-to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
