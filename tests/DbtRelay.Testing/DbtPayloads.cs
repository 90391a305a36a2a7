using System.Text;
using DbtRelay.Webhooks;

namespace DbtRelay.Testing;

/// <summary>Realistic dbt Cloud webhook bodies, shaped like the documented examples.</summary>
public static class DbtPayloads
{
    public static string Completed(string eventId = "wev_2L6Z3l8uPedXKPq9D2nWbPIip7Z", string jobId = "123",
        string runStatus = "Success", int statusCode = 10, string eventType = "job.run.completed",
        string environmentId = "456", string projectId = "789", string runId = "70000001", DateTimeOffset? timestamp = null) => $$"""
        {
          "accountId": 1,
          "webhooksID": "wsu_12345abcde",
          "eventId": "{{eventId}}",
          "timestamp": "{{Timestamp(timestamp)}}",
          "eventType": "{{eventType}}",
          "webhookName": "test",
          "data": {
            "jobId": "{{jobId}}",
            "jobName": "Daily Job (dbt build)",
            "runId": "{{runId}}",
            "environmentId": "{{environmentId}}",
            "environmentName": "Production",
            "dbtVersion": "1.9.0",
            "projectName": "Analytics",
            "projectId": "{{projectId}}",
            "runStatus": "{{runStatus}}",
            "runStatusCode": {{statusCode}},
            "runStatusMessage": "None",
            "runReason": "Kicked off from UI by \"someone\"",
            "runStartedAt": "2026-11-22T10:14:00Z",
            "runFinishedAt": "2026-11-22T10:15:31Z"
          }
        }
        """;

    /// <summary>
    /// dbt's format (ISO 8601, milliseconds, Z); by default a minute ago on this machine's clock, since intake refuses
    /// events whose signed timestamp is days old.
    /// </summary>
    public static string Timestamp(DateTimeOffset? at = null) =>
        (at ?? DateTimeOffset.UtcNow.AddMinutes(-1)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json);

    public static string Sign(string secret, byte[] body) => WebhookSignature.Compute(Encoding.UTF8.GetBytes(secret), body);
}
