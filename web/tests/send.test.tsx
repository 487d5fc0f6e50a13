import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Field } from "../src/components/ui";
import { SendScreen } from "../src/screens/Send";

// The server is the outside world here: fetch answers as the API would.
const WALLET = {
  id: "0b7f3c1e-8a2d-4f47-9a3e-0c1d2e3f4a5b", currency: "EUR", name: "", status: "active",
  is_default: true, is_shared: false, role: "owner", created_at: "2026-12-01T00:00:00Z",
  balance: { posted: 5000, pending: 0, available: 5000 },
};
const TRANSFER = {
  id: "t-1", source_wallet: WALLET.id, destination_wallet: "w-2", amount: 1250, fee: 0,
  currency: "EUR", note: "", status: "completed", created_at: "2026-12-07T10:00:00Z",
};
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

let transferPosts: Request[];
let failNextTransfer: boolean;

beforeEach(() => {
  transferPosts = [];
  failNextTransfer = false;
  vi.stubGlobal("fetch", vi.fn(async (input: Request) => {
    const url = new URL(input.url, "http://localhost");
    if (url.pathname === "/api/v1/wallets") return json(200, { results: [WALLET] });
    if (url.pathname === "/api/v1/recipients") {
      return url.searchParams.get("destination") === "ada@example.test"
        ? json(200, { display_name: "Ada Lovelace", currency: "EUR" })
        : json(404, { error: { code: "recipient_not_found", message: "No wallet found for that recipient.", details: {} } });
    }
    if (url.pathname === "/api/v1/transfers") {
      transferPosts.push(input.clone());
      if (failNextTransfer) {
        failNextTransfer = false;
        throw new TypeError("Failed to fetch");
      }
      await new Promise((r) => setTimeout(r, 20));
      return json(201, TRANSFER);
    }
    return json(404, { error: { code: "not_found", message: "", details: {} } });
  }));
});
afterEach(() => vi.unstubAllGlobals());

async function fillAndConfirm(destination = "ada@example.test") {
  const user = userEvent.setup();
  render(<MemoryRouter><SendScreen /></MemoryRouter>);
  await user.type(await screen.findByLabelText("To (e-mail or phone)"), destination);
  await user.type(screen.getByLabelText("Amount (EUR)"), "12,50");
  await user.click(screen.getByRole("button", { name: "Continue" }));
  return user;
}

describe("SendScreen", () => {
  it("names the recipient before sending, then sends 1250 minor units once on a double tap", async () => {
    const user = await fillAndConfirm();
    expect(await screen.findByTestId("recipient-name")).toHaveTextContent("Ada Lovelace");
    expect(transferPosts).toHaveLength(0);
    await user.dblClick(screen.getByRole("button", { name: "Send" }));
    expect(await screen.findByText(/You sent €12.50 to Ada Lovelace/)).toBeInTheDocument();
    expect(transferPosts).toHaveLength(1);
    expect(await transferPosts[0]!.json()).toMatchObject({ amount: 1250, currency: "EUR", destination: "ada@example.test" });
  });

  it("retries a lost answer with the same Idempotency-Key", async () => {
    failNextTransfer = true;
    const user = await fillAndConfirm();
    await user.click(await screen.findByRole("button", { name: "Send" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("will not be sent twice");
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByText(/You sent €12.50/)).toBeInTheDocument();
    const keys = transferPosts.map((r) => r.headers.get("Idempotency-Key"));
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBeTruthy();
    expect(keys[1]).toBe(keys[0]);
  });

  it("shows the human message when nobody has that address, and sends nothing", async () => {
    await fillAndConfirm("nobody@example.test");
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "We found nobody with that e-mail or phone number who can receive this currency.",
    );
    expect(screen.queryByTestId("recipient-name")).toBeNull();
    expect(transferPosts).toHaveLength(0);
  });

  it("refuses an amount it cannot parse exactly, next to the field", async () => {
    const user = userEvent.setup();
    render(<MemoryRouter><SendScreen /></MemoryRouter>);
    await user.type(await screen.findByLabelText("To (e-mail or phone)"), "ada@example.test");
    await user.type(screen.getByLabelText("Amount (EUR)"), "12.345");
    await user.click(screen.getByRole("button", { name: "Continue" }));
    await waitFor(() => expect(screen.getByLabelText("Amount (EUR)")).toHaveAccessibleDescription("That currency has fewer decimal places."));
    expect(screen.getByLabelText("Amount (EUR)")).toHaveAttribute("aria-invalid", "true");
  });
});

describe("Field", () => {
  it("ties its label, hint and errors to the input", () => {
    render(<Field label="IBAN" hint="Starts with two letters." errors={["That IBAN is not valid."]} />);
    const input = screen.getByLabelText("IBAN");
    expect(input).toHaveAccessibleDescription("Starts with two letters. That IBAN is not valid.");
    expect(input).toHaveAttribute("aria-invalid", "true");
  });
});
