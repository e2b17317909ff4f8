// Consumer: poll the queue, fetch the object, parse the invite, publish to the route topic, delete.
