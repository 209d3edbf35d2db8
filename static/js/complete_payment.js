// Lets the supporter pass their bank's check (3-D Secure) for a payment, then tells the server.
(function () {
  const form = document.getElementById("payment-form");
  const button = document.getElementById("confirm-payment");
  const errors = document.getElementById("card-errors");
  const clientSecret = JSON.parse(document.getElementById("stripe-client-secret").textContent);
  // The saved card: after an off-session authentication_required decline Stripe has taken it
  // off the PaymentIntent, which can only be confirmed again with it.
  const paymentMethod = JSON.parse(document.getElementById("stripe-payment-method").textContent);
  const stripe = Stripe(JSON.parse(document.getElementById("stripe-publishable-key").textContent));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    const result = await stripe.confirmCardPayment(
      clientSecret, paymentMethod ? {payment_method: paymentMethod} : undefined);
    if (result.error) {
      errors.textContent = result.error.message || "The payment was not confirmed.";
    }
    form.submit();
  });
})();
