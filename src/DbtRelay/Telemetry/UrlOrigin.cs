namespace DbtRelay.Telemetry;

/// <summary>
/// What the relay may say about a URL it calls or is pointed to, in logs, spans, reasons and answers: scheme, host
/// and port. Never the path or query (a webhook path may be a secret) nor user information (<c>user:pass@</c>).
/// </summary>
public static class UrlOrigin
{
    public static string Of(Uri url) =>
        url.IsAbsoluteUri
            ? url.IsDefaultPort ? $"{url.Scheme}://{url.IdnHost}" : $"{url.Scheme}://{url.IdnHost}:{url.Port}"
            : "(a relative URL)";
}
