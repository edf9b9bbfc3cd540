-- Cart additions per day.
SELECT event_date, COUNT(*) AS cart_adds
FROM ecommerce_events
WHERE action = 'ADD_TO_CART'
GROUP BY event_date
ORDER BY event_date;
