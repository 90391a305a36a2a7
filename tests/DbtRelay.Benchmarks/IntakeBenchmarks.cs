using System.Text;
using BenchmarkDotNet.Attributes;
using DbtRelay.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace DbtRelay.Benchmarks;

/// <summary>
/// The intake decision on a realistic ~1 KiB dbt body: verify the HMAC, read the event, build and serialize the
/// envelope. This is all the HTTP function does besides the enqueue.
/// </summary>
[MemoryDiagnoser]
public class IntakeBenchmarks
{
    private WebhookIntake _oneSecret = null!;
    private WebhookIntake _threeSecrets = null!;
    private byte[] _body = null!;
    private string _signature = null!;
    private string _badSignature = null!;

    [GlobalSetup]
    public void Setup()
    {
        _body = Encoding.UTF8.GetBytes(Payloads.OneKiB);
        _signature = WebhookSignature.Compute("prod-secret"u8, _body);
        _badSignature = WebhookSignature.Compute("attacker"u8, _body);
        _oneSecret = Intake(new WebhookSecret("prod", "prod-secret"));
        _threeSecrets = Intake(new WebhookSecret("old", "old-secret"), new WebhookSecret("staging", "staging-secret"), new WebhookSecret("prod", "prod-secret"));
    }

    private static WebhookIntake Intake(params WebhookSecret[] secrets) =>
        new(new StaticWebhookSecrets(secrets), new DbtRelay.InProcess.InMemoryRelayQueues(TimeProvider.System), Options.Create(new IntakeOptions()), TimeProvider.System, NullLogger<WebhookIntake>.Instance);

    // The decision never awaits when secrets are in memory (the point of preloading them).
    private static IntakeDecision Completed(ValueTask<IntakeDecision> decision) =>
        decision.IsCompletedSuccessfully ? decision.Result : throw new InvalidOperationException("intake went asynchronous");

    [Benchmark(Baseline = true)]
    public IntakeDecision Accept_one_secret() => Completed(_oneSecret.DecideAsync(_body, _signature, default));

    [Benchmark]
    public IntakeDecision Accept_three_secrets() => Completed(_threeSecrets.DecideAsync(_body, _signature, default));

    [Benchmark]
    public IntakeDecision Reject_bad_signature() => Completed(_oneSecret.DecideAsync(_body, _badSignature, default));
}

internal static class Payloads
{
    /// <summary>A dbt Cloud job.run.completed body of about 1 KiB, shaped like dbt's documented example.</summary>
    public static readonly string OneKiB = $$"""
        {
          "accountId": 1,
          "webhookId": "wsu_12345abcdefghijklmnop",
          "eventId": "wev_2L6Z3l8uPedXKPq9D2nWbPIip7Z",
          "timestamp": "{{DbtRelay.Testing.DbtPayloads.Timestamp()}}",
          "eventType": "job.run.completed",
          "webhookName": "Production completed runs",
          "data": {
            "jobId": "123",
            "jobName": "Daily marts build (dbt build --select marts+)",
            "runId": "218726483",
            "environmentId": "456",
            "environmentName": "Production",
            "dbtVersion": "1.9.0",
            "projectName": "Analytics warehouse",
            "projectId": "789",
            "runStatus": "Success",
            "runStatusCode": 10,
            "runStatusMessage": "None",
            "runReason": "Kicked off from the scheduler at 10:00 UTC for the daily marts refresh",
            "runStartedAt": "2026-11-22T10:00:02.512Z",
            "runFinishedAt": "2026-11-22T10:15:31.991Z",
            "runArtifacts": "https://cloud.getdbt.com/api/v2/accounts/1/runs/218726483/artifacts/",
            "gitBranch": "main",
            "gitSha": "3f2a9c1b7e5d4f6a8b0c2d4e6f8a0b1c3d5e7f90",
            "triggeredBy": "scheduler"
          }
        }
        """;
}
