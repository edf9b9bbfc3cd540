-- Cart additions per hour of the day (UTC).
SELECT event_hour, COUNT(*) AS cart_adds
FROM ecommerce_events
WHERE action = 'ADD_TO_CART'
GROUP BY event_hour
ORDER BY event_hour;
