// The Function app on Flex Consumption (FC1, Linux), .NET 10 isolated. Flex takes its runtime from
// functionAppConfig: FUNCTIONS_WORKER_RUNTIME, WEBSITE_RUN_FROM_PACKAGE and content-share settings must not be set.
// (.NET 10 isolated is not offered on Linux Consumption Y1.)
param resourceToken string
param location string
param tags object
param identityId string
param identityClientId string
@description('The identity the platform writes and reads the deployment package with (not the app\'s).')
param deployIdentityId string
@description('Subnet the app joins (private networking), or empty.')
param appSubnetId string
param storageAccountName string
param deploymentContainerUrl string
param keyVaultUri string
param appInsightsConnectionString string
param logAnalyticsWorkspaceId string
param instanceMemoryMB int
param maximumInstanceCount int
param alwaysReadyHttpInstances int
param alwaysReadyPipelineInstances int

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-${resourceToken}'
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
      '${deployIdentityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: empty(appSubnetId) ? null : appSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: deployIdentityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: concat(alwaysReadyHttpInstances > 0 ? [
          {
            name: 'http'
            instanceCount: alwaysReadyHttpInstances
          }
        ] : [], alwaysReadyPipelineInstances > 0 ? [
          {
            name: 'function:RouteDbtEvent'
            instanceCount: alwaysReadyPipelineInstances
          }
          {
            name: 'function:DeliverSync'
            instanceCount: alwaysReadyPipelineInstances
          }
        ] : [])
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    // Host storage by identity: no connection string, no key.
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    // Every secret named in relay.json is read from here with the same identity.
    KeyVault__Uri: keyVaultUri
    KeyVault__ClientId: identityClientId
  }
}

// Deployments use the identity (azd / the Functions action with OIDC), never publishing profiles.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'app-to-log-analytics'
  scope: site
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
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

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
