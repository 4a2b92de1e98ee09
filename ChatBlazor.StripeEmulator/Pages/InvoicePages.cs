using System.Globalization;
using System.Text;
using ChatBlazor.StripeEmulator.Model;

namespace ChatBlazor.StripeEmulator.Pages;

/// <summary>An invoice's hosted_invoice_url (with a pay form while it is open) and its invoice_pdf.</summary>
public static class InvoicePages
{
    public static void MapInvoicePages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/invoices/{id}", (EmulatorStore store, string id) => store.Run(tx => Show(tx, id, message: null)));
        app.MapPost("/invoices/{id}", Pay);
        app.MapGet("/invoices/{id}/pdf", (EmulatorStore store, string id) => store.Run(tx =>
            tx.Find(id) is Invoice invoice
                ? Results.File(Pdf(Lines(tx, invoice)), "application/pdf", $"{invoice.Number}.pdf")
                : Results.NotFound()));
    }

    /// <summary>Pays an open invoice with the card entered, which becomes the customer's card (as Stripe's page does).</summary>
    private static async Task<IResult> Pay(HttpContext http, EmulatorStore store, string id)
    {
        var form = await http.Request.ReadFormAsync();
        var card = TestCards.Normalize(form["card"]);
        return store.Run(tx =>
        {
            if (tx.Find(id) is not Invoice invoice)
                return NotFound();
            if (invoice.Status != "open")
                return Show(tx, id, $"This invoice is {invoice.Status}.");
            if (card.Length is < 12 or > 19)
                return Show(tx, id, "Your card number is incomplete.");
            tx.Get<Customer>(invoice.Customer, "customer").Card = card;
            return Show(tx, id, Billing.PayInvoice(tx, invoice) ? "Paid. Thank you." : "Your card was declined.");
        });
    }

    private static IResult NotFound() =>
        Html.Page("Invoice not found", "<p>This invoice is not known to the emulator.</p>", StatusCodes.Status404NotFound);

    private static IResult Show(EmulatorStore.Transaction tx, string id, string? message)
    {
        if (tx.Find(id) is not Invoice invoice)
            return NotFound();
        var body = new StringBuilder();
        body.Append($"<p>Status: <strong data-testid=\"invoice-status\">{Html.E(invoice.Status)}</strong></p>");
        if (message is not null)
            body.Append($"<p role=\"status\" data-testid=\"invoice-message\">{Html.E(message)}</p>");
        body.Append("<table><tr><th>Description</th><th>Period</th><th>Quantity</th><th>Amount</th></tr>");
        foreach (var line in invoice.Lines.Data)
            body.Append($"<tr><td>{Html.E(line.Description)}</td><td>{Html.Date(line.Period.Start)} to {Html.Date(line.Period.End)}</td><td data-testid=\"line-quantity\">{line.Quantity}</td><td>{Html.Money(line.Amount, line.Currency)}</td></tr>");
        body.Append($"</table><p>Total: <strong>{Html.Money(invoice.Total, invoice.Currency)}</strong>, remaining {Html.Money(invoice.AmountRemaining, invoice.Currency)}</p>");
        body.Append($"<p><a href=\"/invoices/{Html.E(invoice.Id)}/pdf\">Download PDF</a></p>");
        if (invoice.Status == "open")
            body.Append($"""
                <form method="post" action="/invoices/{Html.E(invoice.Id)}">
                <label>Card number <input name="card" inputmode="numeric" value="{TestCards.Pays}" data-testid="card-number"></label>
                <button type="submit" data-testid="pay">Pay {Html.Money(invoice.AmountRemaining, invoice.Currency)}</button>
                </form>
                """);
        return Html.Page($"Invoice {invoice.Number}", body.ToString());
    }

    private static List<string> Lines(EmulatorStore.Transaction tx, Invoice invoice)
    {
        var customer = tx.Get<Customer>(invoice.Customer, "customer");
        var lines = new List<string>
        {
            $"Invoice {invoice.Number} ({invoice.Status}) - Stripe emulator, test mode",
            $"Customer: {customer.Email ?? customer.Id}",
        };
        foreach (var line in invoice.Lines.Data)
            lines.Add($"{line.Description}: {EmulatorStore.Amount(line.Amount, line.Currency)}");
        lines.Add($"Total: {EmulatorStore.Amount(invoice.Total, invoice.Currency)}");
        return lines;
    }

    /// <summary>
    /// A one-page PDF 1.4 of text lines in Helvetica: the objects, then a cross-reference table of their byte offsets.
    /// Small enough to write by hand, so no PDF library is needed for an emulator's receipt. Text is ASCII only.
    /// </summary>
    public static byte[] Pdf(IReadOnlyList<string> lines)
    {
        var text = new StringBuilder("BT /F1 12 Tf 50 790 Td 16 TL\n");
        foreach (var line in lines)
        {
            var ascii = new string(line.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
            text.Append('(').Append(ascii.Replace("\\", "\\\\").Replace("(", "\\(").Replace(")", "\\)")).Append(") Tj T*\n");
        }
        text.Append("ET");
        string[] objects =
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            $"<< /Length {Encoding.ASCII.GetByteCount(text.ToString())} >>\nstream\n{text}\nendstream",
        ];
        var pdf = new StringBuilder("%PDF-1.4\n");
        var offsets = new List<int>();
        for (var i = 0; i < objects.Length; i++)
        {
            offsets.Add(Encoding.ASCII.GetByteCount(pdf.ToString()));
            pdf.Append(CultureInfo.InvariantCulture, $"{i + 1} 0 obj\n{objects[i]}\nendobj\n");
        }
        var xref = Encoding.ASCII.GetByteCount(pdf.ToString());
        pdf.Append(CultureInfo.InvariantCulture, $"xref\n0 {objects.Length + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets)
            pdf.Append(CultureInfo.InvariantCulture, $"{offset:D10} 00000 n \n");
        pdf.Append(CultureInfo.InvariantCulture, $"trailer\n<< /Size {objects.Length + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n");
        return Encoding.ASCII.GetBytes(pdf.ToString());
    }
}
