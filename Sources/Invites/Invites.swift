// Invites: find the calendar part of a message (GMime), parse it (libical), build and classify the event request.
