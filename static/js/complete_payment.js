// Lets the supporter pass their bank's check (3-D Secure) for a payment, then tells the server.
(function () {
  const form = document.getElementById("payment-form");
  const button = document.getElementById("confirm-payment");
  const errors = document.getElementById("card-errors");
  const clientSecret = JSON.parse(document.getElementById("stripe-client-secret").textContent);
  const stripe = Stripe(JSON.parse(document.getElementById("stripe-publishable-key").textContent));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    const result = await stripe.confirmCardPayment(clientSecret);
    if (result.error) {
      errors.textContent = result.error.message || "The payment was not confirmed.";
    }
    form.submit();
  });
})();
