-- Dead letters per arrival day and reject code.
SELECT dt, code, COUNT(*) AS rejects
FROM ecommerce_events_errors
GROUP BY dt, code
ORDER BY dt, code;
