// Host storage: reached only with the managed identity (shared keys off). Holds the relay's queues, the delivery
// ledger (blobs created with If-None-Match: *) and the Flex deployment package.
param name string
param location string
param tags object
param identityPrincipalId string
param deployerPrincipalId string
param deployerPrincipalType string

// Must match src/DbtRelay/Delivery/IRelayQueues.cs (QueueNames) and src/DbtRelay.AzureStorage/StorageClients.cs (LedgerContainer).
var queueNames = [
  'dbt-events'
  'dbt-deliveries'
  'dbt-deliveries-failed'
]
var ledgerContainerName = 'dbt-relay-ledger'
var deploymentContainerName = 'app-package'

// Blob Data Owner (host, ledger, deployment package) and Queue Data Contributor (triggers, enqueue, dead letters).
// Table Data Contributor is not granted: nothing here uses tables.
var storageRoles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  queueDataContributor
]
var queueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'


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
    publicNetworkAccess: 'Enabled'
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

resource roleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in storageRoles: {
  name: guid(storage.id, identityPrincipalId, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

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
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
