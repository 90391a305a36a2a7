// Host storage: reached only with the managed identity (shared keys off). Holds the relay's queues, the delivery
// ledger (blobs created with If-None-Match: *) and the Flex deployment package.
param name string
param location string
param tags object
param identityPrincipalId string
param deployerPrincipalId string
param deployerPrincipalType string
@description('Principal of the identity the platform deploys the package with; the only one that may write it.')
param deployIdentityPrincipalId string
@description('Refuse public traffic: the app reaches blobs and queues through private endpoints (network.bicep).')
param privateNetworking bool
@description('Public IP ranges (CIDR) still let in when privateNetworking is on: the operators running az and dbt-relay.')
param operatorIpRanges array

// Must match src/DbtRelay/Delivery/IRelayQueues.cs (QueueNames) and src/DbtRelay.AzureStorage/StorageClients.cs (LedgerContainer).
var queueNames = [
  'dbt-events'
  'dbt-deliveries'
  'dbt-deliveries-failed'
]
var ledgerContainerName = 'dbt-relay-ledger'
var deploymentContainerName = 'app-package'

// The app's identity: Blob Data Owner (host containers, ledger) and Queue Data Contributor (triggers, enqueue, dead
// letters). Table Data Contributor is not granted: nothing here uses tables.
var blobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var blobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var queueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'

// The app's Blob Data Owner holds everywhere except writes to the deployment package: code running as the app (or a
// token of its identity that leaked) must not be able to replace the code the platform starts next. The package is
// written by the deploy identity alone (below).
var noPackageWrites = '(!(ActionMatches{\'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write\'}) AND !(ActionMatches{\'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action\'}) AND !(ActionMatches{\'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete\'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringNotEquals \'${deploymentContainerName}\')'


var operatorIpRules = map(operatorIpRanges, range => { value: range, action: 'Allow' })

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Private networking keeps the public endpoint for the operators' ranges only; the app comes in through the
    // private endpoints. Without it, access is by identity alone (shared keys are off).
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

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource ledgerContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: ledgerContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queueName in queueNames: {
  parent: queueService
  name: queueName
}]

// dbt redelivers within hours; a month of ledger entries is ample to deduplicate, and keeps the container small.
// The delivery history (history/ in the same container) has the same 30 days.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          enabled: true
          name: 'expire-ledger-entries'
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${ledgerContainerName}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: 30
                }
              }
            }
          }
        }
      ]
    }
  }
}

resource appBlobAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identityPrincipalId, blobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataOwner)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    conditionVersion: '2.0'
    condition: noPackageWrites
  }
}

resource appQueueAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identityPrincipalId, queueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', queueDataContributor)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The deploy identity can write the package and nothing else in the account.
resource deployWritesPackage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deploymentContainer.id, deployIdentityPrincipalId, blobDataContributor)
  scope: deploymentContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributor)
    principalId: deployIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Shared keys are off, so a person looking at or moving messages (the host's -poison queues, `az storage message
// ... --auth-mode login`) needs a data role of their own.
resource deployerQueueAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(storage.id, deployerPrincipalId, queueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', queueDataContributor)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

output name string = storage.name
output id string = storage.id
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
