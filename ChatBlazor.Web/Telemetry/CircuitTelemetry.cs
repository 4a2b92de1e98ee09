using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace ChatBlazor.Web.Telemetry;

/// <summary>Open Blazor circuits in this instance (meter <see cref="Name"/>): each one is a browser tab holding server memory.</summary>
public sealed class CircuitTelemetry : CircuitHandler
{
    public const string Name = "ChatBlazor.Web.Circuits";

    private static readonly Meter Meter = new(Name);

    private static readonly UpDownCounter<long> Open = Meter.CreateUpDownCounter<long>("chatblazor.circuits.open", "{circuit}", "Blazor circuits open in this instance.");

    public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        Open.Add(1);
        return Task.CompletedTask;
    }

    public override Task OnCircuitClosedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        Open.Add(-1);
        return Task.CompletedTask;
    }
}
