namespace DbtRelay.Events;

/// <summary>dbt Cloud's run status codes (the <c>runStatusCode</c> field).</summary>
public static class DbtRunStatus
{
    public const int Running = 3;
    public const int Success = 10;
    public const int Error = 20;
    public const int Cancelled = 30;

    /// <summary>Maps a status name (<c>Success</c>, <c>Errored</c>, …, any case) or a numeric code to the code.</summary>
    public static int? ToCode(string? nameOrCode) => nameOrCode?.Trim().ToLowerInvariant() switch
    {
        null or "" => null,
        "running" or "3" => Running,
        "success" or "succeeded" or "10" => Success,
        "errored" or "error" or "failed" or "20" => Error,
        "cancelled" or "canceled" or "30" => Cancelled,
        var other when int.TryParse(other, out var code) => code,
        _ => null,
    };

    /// <summary>dbt's name for a status code (the code itself when dbt has no name for it).</summary>
    public static string Name(int code) => code switch
    {
        Running => "Running",
        Success => "Success",
        Error => "Errored",
        Cancelled => "Cancelled",
        _ => code.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
