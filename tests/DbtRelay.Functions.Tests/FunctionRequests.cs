using System.Security.Claims;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Moq;

namespace DbtRelay.Functions.Tests;

/// <summary>HTTP requests as the worker hands them to a function (the worker types are abstract; Moq fills them in).</summary>
internal static class FunctionRequests
{
    public static HttpRequestData Create(string method, byte[] body, string? authorization = null, string url = "https://relay.example.net/api/dbt/webhook")
    {
        var context = new Mock<FunctionContext>();
        var request = new Mock<HttpRequestData>(context.Object);
        var headers = new HttpHeadersCollection();
        if (authorization is not null) headers.Add("Authorization", authorization);
        headers.Add("Content-Length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Setup(r => r.Method).Returns(method);
        request.Setup(r => r.Body).Returns(new MemoryStream(body));
        request.Setup(r => r.Headers).Returns(headers);
        request.Setup(r => r.Url).Returns(new Uri(url));
        request.Setup(r => r.Identities).Returns(Array.Empty<ClaimsIdentity>());
        request.Setup(r => r.CreateResponse()).Returns(() =>
        {
            var response = new Mock<HttpResponseData>(context.Object);
            response.SetupProperty(r => r.StatusCode);
            response.SetupProperty(r => r.Headers, new HttpHeadersCollection());
            response.SetupProperty(r => r.Body, new MemoryStream());
            return response.Object;
        });
        return request.Object;
    }

    public static string BodyText(HttpResponseData response)
    {
        response.Body.Position = 0;
        return new StreamReader(response.Body).ReadToEnd();
    }
}
