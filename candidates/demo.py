"""The candidates' part of the demo story (``pledges.demo`` seeds it): plank commitments with
public reservations, statements the candidates wrote, supporters' asks and one declined
invitation. Only data; the seed calls the real services with it."""

# candidate name -> {plank position: the reservation they state publicly}
RESERVATIONS: dict[str, dict[int, str]] = {
    "Priya Raman": {
        10: "I support lifting the cap, phased in over four years so small employers can plan.",
    },
    "Darnell Whitaker": {
        8: "Buyback limits yes; I will judge each antitrust case on its own record.",
    },
}
