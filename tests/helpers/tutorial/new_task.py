#!/usr/bin/env python
# The official RabbitMQ tutorial 2 new_task.py, verbatim but for the queue name,
# which comes from TUTORIAL_QUEUE so each test uses its own queue.
import os
import sys

import pika

QUEUE = os.environ.get("TUTORIAL_QUEUE", "task_queue")

connection = pika.BlockingConnection(pika.ConnectionParameters(host="localhost"))
channel = connection.channel()

channel.queue_declare(queue=QUEUE, durable=True, arguments={"x-queue-type": "quorum"})

message = " ".join(sys.argv[1:]) or "Hello World!"
channel.basic_publish(
    exchange="",
    routing_key=QUEUE,
    body=message,
    properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent),
)
print(f" [x] Sent {message}")
connection.close()
