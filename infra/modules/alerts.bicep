// Alerts an operator needs without watching a dashboard: a delivery was dead-lettered (every one is a sync that did
// not happen), a followed downstream run did not succeed (the sync started, then failed, was cancelled, timed out or
// could not be read), and a burst of invalid signatures (a misconfigured secret after a rotation, or someone probing
// the webhook). All read the relay's own OpenTelemetry counters, which the app exports to Application Insights as
// customMetrics (dbtrelay.deliveries, dbtrelay.downstream.runs, dbtrelay.events.rejected).
param resourceToken string
param location string
param tags object
param appInsightsId string

@description('Where alerts are e-mailed. Empty: the rules exist (and show in the portal) but notify no one.')
param alertEmailAddress string

@description('Invalid signatures within 5 minutes that count as a burst.')
param invalidSignatureThreshold int

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmailAddress)) {
  name: 'ag-${resourceToken}'
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'dbtrelay'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmailAddress
        useCommonAlertSchema: true
      }
    ]
  }
}

var actions = empty(alertEmailAddress) ? [] : [ actionGroup.id ]

resource deadLetters 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-dead-letter-${resourceToken}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'dbt-relay: a delivery was dead-lettered'
    description: 'A downstream sync will not happen without an operator. `dbt-relay events --status dead-lettered` lists them; `dbt-relay trace <eventId>` says why.'
    severity: 1
    enabled: true
    scopes: [ appInsightsId ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "dbtrelay.deliveries" and tostring(customDimensions.outcome) == "dead_lettered" | extend target = tostring(customDimensions.target) | summarize deadLettered = sum(valueSum) by target'
          timeAggregation: 'Total'
          metricMeasureColumn: 'deadLettered'
          dimensions: [
            {
              name: 'target'
              operator: 'Include'
              values: [ '*' ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: false
    actions: {
      actionGroups: actions
    }
  }
}

resource downstreamFailures 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-downstream-failed-${resourceToken}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'dbt-relay: a downstream run did not succeed'
    description: 'A sync or job the relay started failed, was cancelled, outlived its maxWait, or its status could not be read. `dbt-relay events --status failed` (and `--status unknown`) lists the events; `dbt-relay trace <eventId>` shows the run, its counts and error.'
    severity: 1
    enabled: true
    scopes: [ appInsightsId ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "dbtrelay.downstream.runs" and tostring(customDimensions.result) != "succeeded" | extend target = tostring(customDimensions.target), result = tostring(customDimensions.result) | summarize runs = sum(valueSum) by target, result'
          timeAggregation: 'Total'
          metricMeasureColumn: 'runs'
          dimensions: [
            {
              name: 'target'
              operator: 'Include'
              values: [ '*' ]
            }
            {
              name: 'result'
              operator: 'Include'
              values: [ '*' ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: false
    actions: {
      actionGroups: actions
    }
  }
}

resource targetPaused 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-target-paused-${resourceToken}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'dbt-relay: a target was paused'
    description: 'Its deliveries wait until it is resumed (`dbt-relay targets list`, `dbt-relay targets resume <name>`): by an operator, or by the circuit breaker after Delivery__PauseAfterFailures failed attempts in a row.'
    severity: 2
    enabled: true
    scopes: [ appInsightsId ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "dbtrelay.target.pauses" | extend target = tostring(customDimensions.target), by = tostring(customDimensions.by) | summarize pauses = sum(valueSum) by target, by'
          timeAggregation: 'Total'
          metricMeasureColumn: 'pauses'
          dimensions: [
            {
              name: 'target'
              operator: 'Include'
              values: [ '*' ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: false
    actions: {
      actionGroups: actions
    }
  }
}

resource invalidSignatures 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-invalid-signatures-${resourceToken}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'dbt-relay: a burst of invalid webhook signatures'
    description: 'dbt Cloud events are being refused with 401: check the webhook secret (after a rotation both secrets must be configured), or someone is probing the endpoint.'
    severity: 2
    enabled: true
    scopes: [ appInsightsId ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "dbtrelay.events.rejected" and tostring(customDimensions.reason) == "invalid_signature" | summarize rejected = sum(valueSum)'
          timeAggregation: 'Total'
          metricMeasureColumn: 'rejected'
          operator: 'GreaterThan'
          threshold: invalidSignatureThreshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actions
    }
  }
}

output actionGroupId string = empty(alertEmailAddress) ? '' : actionGroup.id
