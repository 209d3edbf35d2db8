// Saves the supporter's card with Stripe.js (a SetupIntent), then tells the server, which asks
// Stripe itself whether the card was saved.
(function () {
  const form = document.getElementById("card-form");
  const button = document.getElementById("save-card");
  const errors = document.getElementById("card-errors");
  const clientSecret = JSON.parse(document.getElementById("stripe-client-secret").textContent);
  const key = JSON.parse(document.getElementById("stripe-publishable-key").textContent);
  const stripe = Stripe(key);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    errors.textContent = "";
    const result = await stripe.confirmCardSetup(clientSecret, { payment_method: { card } });
    if (result.error) {
      errors.textContent = (result.error && result.error.message) || "The card was not accepted.";
      button.disabled = false;
      return;
    }
    form.submit();
  });
})();
